"""The Affinity page: the products or categories bought together (or one after the other),
with their support, confidence and lift, sortable. A product reads by its name (the latest the
shop sent), its id beside it; the figures stay keyed by id. Each item links to the audience builder
started on the people who bought it, or on those whose next-best item it is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from lealta.affinity.options import BY, AffinityOptions, By
from lealta.bootstrap import Services
from lealta.errors import InvalidInput

PAIRS = 100
# The columns a reader may sort by (strongest first), with their headings.
SORTS = {
    "lift": "Lift",
    "confidence": "Confidence",
    "support": "Support",
    "n_ab": "Together",
}


def choices_from(query: Mapping[str, str]) -> tuple[By, bool, str]:
    """What the reader asked: pair ``by`` (category or product), in ``sequence`` or not, and
    the column sorted by; unknown values fall back to the defaults."""
    by: By = "product" if query.get("by") == "product" else "category"
    sort = query.get("sort", "lift")
    return (
        by,
        query.get("sequence", "") == "1",
        sort if sort in SORTS else "lift",
    )


def people_links(item: str, by: str) -> dict[str, str]:
    """The builder started on who bought ``item`` and on whose next-best item it is."""
    return {
        "bought": "/audiences/new?" + urlencode({"bought": item, "by": by}),
        "next_best": "/audiences/new?" + urlencode({"next_best": item, "by": by}),
    }


def affinity_context(services: Services, query: Mapping[str, str]) -> dict[str, Any]:
    """The page's pairs (the :data:`PAIRS` strongest by lift, sorted as asked), or the
    problem that stopped them (no order with lines yet)."""
    from lealta.affinity.lines import item_names
    from lealta.affinity.store import pairs_from_store

    by, sequence, sort = choices_from(query)
    problem = ""
    pairs: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    as_of = None
    lines = 0
    try:
        found, pairs = pairs_from_store(
            services, AffinityOptions(by=by), sequence=sequence, limit=PAIRS
        )
        as_of, lines, names = found.as_of, found.rows_kept, item_names(found)
    except InvalidInput as exc:
        problem = str(exc)
    pairs.sort(key=lambda p: (-float(p[sort]), str(p["item_a"]), str(p["item_b"])))
    rows = [
        {
            **pair,
            "a_links": people_links(str(pair["item_a"]), by),
            "b_links": people_links(str(pair["item_b"]), by),
            "a_name": names.get(str(pair["item_a"]), ""),
            "b_name": names.get(str(pair["item_b"]), ""),
        }
        for pair in pairs
    ]

    def link(**changed: str) -> str:
        chosen = {"by": by, "sequence": "1" if sequence else "", "sort": sort} | changed
        return "/affinity?" + urlencode({k: v for k, v in chosen.items() if v})

    return {
        "by": by,
        "sequence": sequence,
        "sort": sort,
        "sorts": {name: (label, link(sort=name)) for name, label in SORTS.items()},
        "switch": {
            "category": link(by="category"),
            "product": link(by="product"),
            "together": link(sequence=""),
            "sequence": link(sequence="1"),
        },
        "pairs": rows,
        "as_of": as_of,
        "lines": lines,
        "problem": problem,
    }


def draft_from(query: Mapping[str, str]) -> dict[str, Any] | None:
    """A new audience's first rule from the Affinity page's links (``bought`` or
    ``next_best`` an item, ``by`` category or product); None without them."""
    by = query.get("by", "category")
    if by not in BY:
        return None
    for kind, name in (("bought", "Bought"), ("next_best", "Next best:")):
        item = query.get(kind, "").strip()
        if item:
            return {
                "name": f"{name} {item}"[:100],
                "description": "",
                "list": "",
                "condition": {"kind": kind, by: item},
            }
    return None
