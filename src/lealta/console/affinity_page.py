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


def people_links(item: str, by: str, name: str = "") -> dict[str, str]:
    """The builder started on who bought ``item`` and on whose next-best item it is (the
    product's ``name``, when known, names the audience; the rule keeps the id)."""
    called = {"name": name} if name else {}
    return {
        "bought": "/audiences/new?" + urlencode({"bought": item, "by": by} | called),
        "next_best": "/audiences/new?" + urlencode({"next_best": item, "by": by} | called),
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
    rows = []
    for pair in pairs:
        row = dict(pair)
        for side in ("a", "b"):
            item = str(pair[f"item_{side}"])
            row[f"{side}_name"] = names.get(item, "")
            row[f"{side}_links"] = people_links(item, by, names.get(item, ""))
        rows.append(row)

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
    ``next_best`` an item, ``by`` category or product, the product's ``name`` if known);
    None without them."""
    by = query.get("by", "category")
    if by not in BY:
        return None
    for kind, name in (("bought", "Bought"), ("next_best", "Next best:")):
        item = query.get(kind, "").strip()
        if item:
            called = query.get("name", "").strip()
            return {
                "name": f"{name} {called} ({item})"[:100] if called else f"{name} {item}"[:100],
                "description": "",
                "list": "",
                "condition": {"kind": kind, by: item},
            }
    return None
