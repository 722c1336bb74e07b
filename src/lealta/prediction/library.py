"""Loading pymc-marketing, the library that owns the models' likelihoods and predictions.

It is an optional extra (``pip install 'lealta[clv]'``): importing it costs seconds (PyMC,
PyTensor), so nothing else in Lealta imports it, and this module only on first use.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lealta.errors import LealtaError


class MissingExtra(LealtaError):
    """The ``clv`` extra is not installed."""


def clv_library() -> Any:
    """``pymc_marketing.clv``, or a clear error naming the extra to install."""
    try:
        with quiet():
            from pymc_marketing import clv
    except ImportError as exc:
        raise MissingExtra(
            "predicted customer value needs the clv extra: pip install 'lealta[clv]' "
            f"({exc.name or exc} is missing)"
        ) from exc
    return clv


def prior(name: str) -> Any:
    """A flat prior: with it the MAP fit is the maximum likelihood fit the papers report."""
    import importlib

    return importlib.import_module("pymc_extras.prior").Prior(name)


@contextmanager
def quiet() -> Iterator[None]:
    """The library's own notices (deprecations of its dependencies, progress) silenced.

    They are about the library's internals, not the user's data, and the test suite turns
    every warning into an error.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
