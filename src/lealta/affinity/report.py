"""The HTML report of an affinity run: one self-contained page (inline CSS and SVG, no script).

A heat map of lift between the items of the strongest pairs, and a table of those pairs with
their counts, support, confidence and lift; the same for pairs bought in sequence when they
were computed. Every text from the data is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lealta import __version__
from lealta.report.drawing import truncate
from lealta.report.format import format_number, format_percent
from lealta.report.markup import escaped, number_cell, section, table_head
from lealta.report.style import CSS
from lealta.report.svg import heatmap

HEATMAP_ITEMS = 12
TABLE_ROWS = 40
LABEL_CHARACTERS = 7


def render_affinity_report(
    title: str,
    facts: Mapping[str, str],
    together: list[dict[str, Any]] | None,
    sequence: list[dict[str, Any]] | None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """The whole page; ``together`` and ``sequence`` are pair rows strongest first."""
    labels = labels or {}
    facts_rows = "".join(
        f'<tr><th scope="row">{escaped(k)}</th><td>{escaped(v)}</td></tr>\n'
        for k, v in facts.items()
    )
    body = (
        f'<header>\n<p class="kicker">Product affinity report</p>\n<h1>{escaped(title)}</h1>\n'
        f'</header>\n<section><table class="facts"><tbody>\n{facts_rows}</tbody></table>'
        "</section>\n"
    )
    if together is not None:
        body += _pairs_section(
            "Bought together",
            together,
            labels,
            "Pairs of items found in the same basket (order). Lift above 1: bought together "
            "more often than if the two were bought independently; confidence: the share of "
            "the baskets with the first item that also hold the second.",
            "In the basket",
            "Also in it",
        )
    if sequence is not None:
        body += _pairs_section(
            "Bought next",
            sequence,
            labels,
            "Pairs where customers first bought the second item after the first. Confidence: "
            "the share of the first item's buyers who went on to buy the second.",
            "Bought first",
            "Then bought",
        )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escaped(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n<footer>Made with Lealta {escaped(__version__)}. This file is self-contained "
        "and reads offline.</footer>\n</main>\n</body>\n</html>\n"
    )


def _pairs_section(
    heading: str,
    pairs: list[dict[str, Any]],
    labels: Mapping[str, str],
    lede: str,
    row_title: str,
    col_title: str,
) -> str:
    if not pairs:
        return section(heading, '<p class="empty">No pair reaches the thresholds.</p>', lede)
    chart = lift_heatmap(pairs, row_title, col_title, labels)
    lede += (
        f" The map: lift from A ({row_title.lower()}, rows) to B ({col_title.lower()}, "
        "columns) between the items in the most pairs; a dash where the pair does not reach "
        "the thresholds."
    )
    return section(heading, f"<figure>{chart}</figure>\n{pairs_table(pairs, labels)}", lede)


def strongest_items(pairs: list[dict[str, Any]], limit: int = HEATMAP_ITEMS) -> list[str]:
    """The ``limit`` items in the most pairs (by baskets or customers, ``n_ab``), so that the
    heat map shows how the busiest items relate; ties by name."""
    weight: dict[str, int] = {}
    for pair in pairs:
        for item in (str(pair["item_a"]), str(pair["item_b"])):
            weight[item] = weight.get(item, 0) + int(pair["n_ab"])
    return sorted(weight, key=lambda item: (-weight[item], item))[:limit]


def lift_heatmap(
    pairs: list[dict[str, Any]],
    row_title: str,
    col_title: str,
    labels: Mapping[str, str] | None = None,
) -> str:
    """Lift between the strongest items: rows are the first item, columns the second, each
    called by its label (the product's name) when known, else by itself."""
    items = strongest_items(pairs)
    lift = {(str(p["item_a"]), str(p["item_b"])): float(p["lift"]) for p in pairs}
    grid = [[lift.get((a, b), math.nan) for b in items] for a in items]
    names = [truncate((labels or {}).get(item) or item, LABEL_CHARACTERS) for item in items]
    return heatmap(
        grid,
        row_labels=names,
        col_labels=names,
        row_title="A",
        col_title=f"B ({col_title.lower()})",
        title=f"Lift from A ({row_title.lower()}) to B, between the {len(items)} busiest items",
        value_format=lambda v: format_number(v, 2),
        label_format=lambda v: format_number(v, 1),
        cell=56.0,
    )


def pairs_table(pairs: list[dict[str, Any]], labels: Mapping[str, str]) -> str:
    """The strongest pairs with every figure (the item's label beside its id, if known)."""
    head = table_head(["Pair", "Both", "First", "Second", "Support", "Confidence", "Lift"])
    rows = []
    for pair in pairs[:TABLE_ROWS]:
        a, b = (named(str(pair[k]), labels) for k in ("item_a", "item_b"))
        rows.append(
            f"<tr><td>{escaped(a)} → {escaped(b)}</td>"
            + number_cell(format_number(pair["n_ab"]))
            + number_cell(format_number(pair["n_a"]))
            + number_cell(format_number(pair["n_b"]))
            + number_cell(format_percent(pair["support"], 2))
            + number_cell(format_percent(pair["confidence"]))
            + number_cell(format_number(pair["lift"], 2))
            + "</tr>"
        )
    more = len(pairs) - TABLE_ROWS
    note = f'<p class="lede">{more:,} more pairs are in the output file.</p>' if more > 0 else ""
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>{note}"


def named(item: str, labels: Mapping[str, str]) -> str:
    """``item`` for a reader: the id with its label (the product's name) beside it, if known
    (ids sort and stay put; names change)."""
    label = labels.get(item)
    return f"{item} ({label})" if label and label != item else item
