"""Console charts: every bar links to the people behind it, texts are escaped."""

from __future__ import annotations

from lealta.console.charts import Bar, columns, funnel
from lealta.console.overview_page import contacts_link


def test_funnel_bars_link_to_their_contacts() -> None:
    svg = funnel(
        [Bar("Lead", 40, contacts_link(stage="Lead")), Bar("Customer", 10, "/contacts?x=1")],
        title="Stages",
    )
    assert '<a href="/contacts?stage=Lead">' in svg
    assert svg.count("<rect") == 2
    assert ">40<" in svg


def test_labels_are_escaped() -> None:
    svg = funnel([Bar("<script>", 1)], title="<b>")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


def test_columns_show_the_first_and_last_day() -> None:
    svg = columns([Bar("2026-01-01", 0), Bar("2026-01-02", 5)], title="New")
    assert "2026-01-01" in svg
    assert "2026-01-02" in svg
    assert "max 5" in svg


def test_an_empty_chart_is_still_drawn() -> None:
    assert funnel([], title="Nothing").startswith("<svg")
    assert columns([], title="Nothing").endswith("</svg>")


def test_links_leave_out_empty_criteria() -> None:
    assert contacts_link() == "/contacts"
    assert contacts_link(segment="At Risk", stage=None) == "/contacts?segment=At+Risk"
    assert contacts_link(r=5, f=1) == "/contacts?r=5&f=1"
