"""The pages people see after following a link in a message, as Jinja2 templates.

The templates sit beside this module (package data): ``base.html`` with the shared layout and
inline style, and one template per page. Autoescaping is on for every value.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("lealta.feedback", "pages"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: Any) -> str:
    """The HTML of page ``name`` (``unsubscribe.html`` …) filled with ``context``."""
    return _environment().get_template(name).render(**context)
