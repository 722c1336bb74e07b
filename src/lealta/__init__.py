"""Lealta: marketing automation and customer segmentation.

The analyst's entry points are :func:`lealta.rfm`, :func:`lealta.cluster` and
:func:`lealta.clv`. They are loaded
on first use, so that ``import lealta`` and the command line start quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "cluster", "clv", "rfm"]

if TYPE_CHECKING:
    from lealta.api import cluster, clv, rfm


def __getattr__(name: str) -> Any:
    if name in ("rfm", "cluster", "clv"):
        from lealta import api

        return getattr(api, name)
    raise AttributeError(f"module 'lealta' has no attribute {name!r}")
