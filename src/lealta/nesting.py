"""How deep stored JSON values may nest (pure).

Attributes, event properties, traits, context, template payloads and consent proofs are stored
as JSON and read back with orjson, which refuses documents nested deeper than 254 levels; a
value that can be written but not read back would break every later read of its row. Nothing
legitimate needs more than a few levels, so values are refused beyond :data:`MAX_DEPTH` levels
when they come in, naming the field. The check walks the value with an explicit stack, so a
hostile value cannot exhaust Python's recursion limit either.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator

from lealta.errors import InvalidInput

MAX_DEPTH = 32
"""The most levels of objects and arrays a stored JSON value may have (the value itself is
level 1: ``{"a": {"b": 1}}`` has two)."""


def too_deep(value: Any, limit: int = MAX_DEPTH) -> str | None:
    """Where ``value`` first nests deeper than ``limit`` levels (``"a.b[3]"``), else ``None``."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, dict):
            children = [(v, f"{path}.{k}" if path else str(k)) for k, v in item.items()]
        elif isinstance(item, list | tuple):
            children = [(v, f"{path}[{i}]") for i, v in enumerate(item)]
        else:
            continue
        if depth > limit:
            return path or "(top)"
        stack.extend((child, depth + 1, where) for child, where in children)
    return None


def check_depth(value: Any, field: str, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`InvalidInput` naming ``field`` when ``value`` nests too deep."""
    where = too_deep(value, limit)
    if where is not None:
        raise InvalidInput(
            f"{field} nests more than {limit} levels of objects and arrays (at {where})",
            field=field,
        )


def _shallow(value: Any) -> Any:
    where = too_deep(value)
    if where is not None:
        raise ValueError(f"nests more than {MAX_DEPTH} levels of objects and arrays (at {where})")
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_shallow)]
"""A JSON object to be stored: at most :data:`MAX_DEPTH` levels deep."""
