"""The one loader for YAML (and JSON) that users send: rules, workflows, templates, segment maps.

``yaml.safe_load`` constructs only plain data, but it still trusts the document's shape: a
390-byte "billion laughs" document whose aliases refer to aliases expands to billions of
values once anything walks it, and a few thousand nested brackets exhaust Python's recursion
limit. :func:`load_yaml` reads the document's events first (a flat stream, no recursion) and
refuses, as :class:`~lealta.errors.InvalidInput` with the line, documents that

* nest deeper than :data:`MAX_DEPTH` levels of mappings and sequences,
* use more than :data:`MAX_ALIASES` aliases (``*name``), or
* would expand, aliases followed, to more than :data:`MAX_NODES` values;

only then is the document built, with PyYAML's safe constructor.
"""

from __future__ import annotations

from typing import Any

import yaml

from lealta.errors import InvalidInput

MAX_DEPTH = 32
MAX_ALIASES = 100
MAX_NODES = 100_000

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str, *, field: str | None = None) -> Any:
    """The data in YAML or JSON ``text`` (``None`` for an empty document).

    Raises
    ------
    InvalidInput
        When the text does not parse, holds more than one document, or is too deep, uses too
        many aliases or expands too far (naming ``field`` and the line).
    """
    try:
        _check_events(text, field)
        return yaml.load(text, Loader=_Loader)  # a safe loader; shape checked above
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InvalidInput(f"not valid YAML or JSON: {exc}", field=field, line=line) from None


def _check_events(text: str, field: str | None) -> None:
    """Depth, aliases and expanded size, from the parser's events (no recursion)."""
    depth = 0
    aliases = 0
    # Per open collection: its values so far; per anchor: the values it stands for.
    sizes: list[int] = [0]
    anchors: dict[str, int] = {}
    opened: list[str | None] = []
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _refuse(f"nests deeper than {MAX_DEPTH} levels", field, line)
            sizes.append(1)
            opened.append(event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            size = sizes.pop()
            anchor = opened.pop()
            if anchor is not None:
                anchors[anchor] = size
            sizes[-1] += size
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _refuse(f"uses more than {MAX_ALIASES} aliases", field, line)
            if event.anchor in opened:
                raise _refuse(f"refers to itself (*{event.anchor})", field, line)
            sizes[-1] += anchors.get(event.anchor or "", 1)  # unknown: the parser refuses it
        elif isinstance(event, yaml.ScalarEvent):
            sizes[-1] += 1
            if event.anchor is not None:
                anchors[event.anchor] = 1
        else:
            continue
        if sum(sizes) > MAX_NODES:
            raise _refuse(f"expands to more than {MAX_NODES:,} values", field, line)


def _refuse(problem: str, field: str | None, line: int) -> InvalidInput:
    return InvalidInput(f"the document {problem} (line {line})", field=field, line=line)
