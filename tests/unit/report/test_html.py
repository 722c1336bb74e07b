"""The HTML report: self-contained, complete, escaped, and robust to odd inputs."""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from lealta.errors import MissingColumn
from lealta.report.html import render_report
from lealta.report.svg import DASH

_VOID = {"meta", "br", "img", "input", "link", "hr", "col", "source", "wbr"}
_SVG_LEAVES = {"rect", "line", "circle"}


class _TagBalance(HTMLParser):
    """Records tags that are closed out of order or never closed."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Self-closed SVG elements open nothing."""

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def _customers(n: int = 60) -> pd.DataFrame:
    rows = []
    for i in range(n):
        r, f, m = i % 5 + 1, (i // 5) % 5 + 1, (i // 25) % 5 + 1
        rows.append(
            {
                "customer_id": f"C{i:03d}",
                "recency": 10 + 7 * (5 - r) * (i % 3 + 1),
                "frequency": f,
                "monetary": 25.0 * f * m,
                "revenue": 25.0 * f * m,
                "orders": f,
                "r_score": r,
                "f_score": f,
                "m_score": m,
                "rfm_code": f"{r}{f}{m}",
                "score_sum": r + f + m,
                "segment": "Champions" if r + f >= 8 else "Others",
                "region": "north",
            }
        )
    return pd.DataFrame(rows)


def _segments(customers: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    total_revenue = float(customers["revenue"].sum()) if len(customers) else 0.0
    rows = []
    for name in [*dict.fromkeys(customers["segment"]), *extra]:
        part = customers[customers["segment"] == name]
        orders, revenue = int(part["orders"].sum()), float(part["revenue"].sum())
        rows.append(
            {
                "segment": name,
                "customers": len(part),
                "orders": orders,
                "revenue": revenue,
                "avg_order_value": revenue / orders if orders else math.nan,
                "customer_share": len(part) / len(customers) if len(customers) else math.nan,
                "revenue_share": revenue / total_revenue if total_revenue else math.nan,
            }
        )
    return pd.DataFrame(rows)


def _render(customers: pd.DataFrame, **kwargs: object) -> str:
    options: dict[str, object] = {"title": "Test shop", "facts": {"Source file": "orders.csv"}}
    options.update(kwargs)
    segments = options.pop("segments", None)
    if not isinstance(segments, pd.DataFrame):
        segments = _segments(customers)
    return render_report(customers, segments, **options)  # type: ignore[arg-type]


def _cells(document: str) -> int:
    return document.count('class="cell"')


def test_the_report_is_a_complete_html_document_with_balanced_tags() -> None:
    document = _render(_customers())
    assert document.startswith("<!DOCTYPE html>")
    parser = _TagBalance()
    parser.feed(document)
    assert parser.errors == []
    assert parser.stack == []


def test_the_report_references_nothing_outside_itself() -> None:
    document = _render(_customers()).lower()
    assert "http://" not in document
    assert "https://" not in document
    for outside in ("<script", "<link", "<img", "<iframe", "@import", "url(", " src="):
        assert outside not in document


def test_the_facts_are_shown_in_the_order_given() -> None:
    facts = {"Source file": "shop.csv", "As of": "2024-12-31", "Rows dropped": "3 duplicates"}
    document = _render(_customers(), facts=facts)
    positions = [document.index(f'<th scope="row">{key}</th>') for key in facts]
    assert positions == sorted(positions)
    assert "3 duplicates" in document


def test_a_fact_labelled_as_a_warning_is_highlighted() -> None:
    document = _render(_customers(), facts={"Warning": "12 orders lie in the future"})
    assert re.search(r'<tr class=warn><th scope="row">Warning</th>', document)


def test_the_key_figures_are_totals_with_thousands_separators() -> None:
    customers = _customers(2000)
    document = _render(customers)
    orders, revenue = int(customers["orders"].sum()), float(customers["revenue"].sum())
    assert f'<span class="value">{2000:,}</span><span class="label">Customers' in document
    assert f'<span class="value">{orders:,}</span><span class="label">Orders' in document
    assert f'<span class="value">{revenue:,.2f}</span><span class="label">Revenue' in document
    aov = f"{revenue / orders:,.2f}"
    assert f'<span class="value">{aov}</span><span class="label">Average order value' in document


def test_both_heatmaps_show_every_score_pair_even_when_empty() -> None:
    customers = _customers().assign(r_score=5, f_score=1)
    document = _render(customers)
    assert _cells(document) == 2 * 5 * 5
    assert "Recency score (R) 5, Frequency score (F) 1: 60<" in document
    assert "Recency score (R) 1, Frequency score (F) 5: 0<" in document


@pytest.mark.parametrize("bins", [3, 7])
def test_the_heatmaps_follow_the_number_of_bins(bins: int) -> None:
    customers = _customers().assign(r_score=lambda d: (d["r_score"] - 1) % bins + 1)
    document = _render(customers, bins=bins)
    assert _cells(document) == 2 * bins * bins
    assert f"Recency score (R) {bins}, Frequency score (F) {bins}:" in document


def test_the_revenue_heatmap_adds_up_revenue_per_cell() -> None:
    customers = _customers(3).assign(r_score=[4, 4, 2], f_score=[3, 3, 3], revenue=[10, 5.5, 1])
    document = _render(customers)
    assert "Recency score (R) 4, Frequency score (F) 3: 15.50<" in document


def test_customers_without_a_valid_score_are_counted_as_left_out() -> None:
    customers = _customers(10).astype({"r_score": "float64"})
    customers.loc[0, "r_score"] = math.nan
    customers.loc[1, "r_score"] = 9
    document = _render(customers)
    assert "2 customers without a valid R or F score are not shown." in document


def test_every_segment_name_appears_with_its_shares() -> None:
    customers = _customers()
    segments = _segments(customers, extra=("Hibernating",))
    document = _render(customers, segments=segments)
    for name in segments["segment"]:
        assert f'<th scope="row" class="name">{name}</th>' in document
    champions = segments.set_index("segment").loc["Champions"]
    assert f"{champions['customer_share'] * 100:.1f}%" in document
    assert f"{champions['revenue_share'] * 100:.1f}% of revenue" in document


def test_a_segment_with_no_customers_is_still_listed_with_zero_bars() -> None:
    customers = _customers()
    document = _render(customers, segments=_segments(customers, extra=("Empty one",)))
    assert "Empty one: 0 customers · 0.0%" in document
    assert '<td class="num">0</td><td class="num">0.0%</td>' in document


def test_a_segment_named_like_a_script_tag_is_escaped() -> None:
    customers = _customers().assign(segment="<script>alert('x')</script>")
    document = _render(customers)
    assert "<script>" not in document
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in document


def test_customer_ids_cluster_names_titles_and_facts_are_escaped() -> None:
    customers = _customers().assign(
        customer_id="<script>id</script>", cluster=1, cluster_name="<b>big</b>"
    )
    document = _render(customers, title="<title>x</title>", facts={"<i>": "<script>fact</script>"})
    for raw in ("<script>", "<b>", "<i>", "<title>x"):
        assert raw not in document
    assert "&lt;script&gt;id&lt;/script&gt;" in document
    assert "1 · &lt;b&gt;big&lt;/b&gt;" in document


def test_a_very_long_segment_name_is_kept_whole_in_the_table() -> None:
    name = "Customers who bought once a long time ago and never came back " * 4
    document = _render(_customers().assign(segment=name))
    assert f'<th scope="row" class="name">{name}</th>' in document


def test_no_customers_renders_an_explanation_instead_of_charts() -> None:
    empty = _customers().iloc[0:0]
    document = _render(empty)
    assert "There are no customers to report" in document
    assert "Source file" in document
    assert _cells(document) == 0


def test_an_empty_frame_without_columns_renders_too() -> None:
    document = render_report(pd.DataFrame(), pd.DataFrame(), title="Nothing", facts={})
    assert "There are no customers to report" in document
    assert "How to read this" in document


def test_one_customer_renders_every_section() -> None:
    document = _render(_customers(1).assign(cluster=0))
    assert _cells(document) == 50
    assert "Recency score (R) 1, Frequency score (F) 1: 1<" in document
    for heading in ("Segments", "Score distributions", "Clusters", "How to read this"):
        assert f"<h2>{heading}</h2>" in document
    assert "1 of 1 customers shown" in document


def test_missing_values_become_dashes_instead_of_errors() -> None:
    customers = _customers(20)
    customers["revenue"] = math.nan
    segments = _segments(customers)
    segments["avg_order_value"] = math.nan
    document = _render(customers, segments=segments)
    assert f'<td class="num">{DASH}</td>' in document
    assert "nan" not in document.lower()


def test_the_payment_score_is_shown_only_when_present() -> None:
    assert "Payment (P)" not in _render(_customers())
    with_payment = _customers().assign(p_score=lambda d: d["m_score"])
    document = _render(with_payment)
    assert "<h3>Payment (P)</h3>" in document
    assert "P for payment" in document


def test_the_score_distributions_count_customers_per_score() -> None:
    customers = _customers(10).assign(m_score=[1, 1, 1, 2, 2, 3, 5, 5, 5, 5])
    document = _render(customers)
    assert "M score 1: 3 (30.0%)" in document
    assert "M score 4: 0 (0.0%)" in document
    assert "M score 5: 4 (40.0%)" in document


def test_a_cluster_profile_is_shown_as_a_table_and_a_scatter() -> None:
    customers = _customers().assign(cluster=lambda d: d.index % 2)
    clusters = pd.DataFrame(
        {
            "cluster": [0, 1],
            "name": ["Recent", "Loyal"],
            "customers": [30, 30],
            "revenue_share": [0.25, 0.75],
            "mean_recency": [12.0, 40.5],
            "mean_frequency": [2.0, 3.0],
            "mean_monetary": [50.0, 1500.0],
        }
    )
    document = _render(customers, clusters=clusters)
    assert "0 · Recent" in document
    assert "1 · Loyal" in document
    assert "75.0%" in document
    assert "1,500.00" in document
    assert document.count('class="point"') == 60
    assert "Monetary (log scale)" in document


def test_without_a_profile_the_clusters_are_summarised_from_the_customers() -> None:
    customers = _customers(20).assign(cluster=[0] * 5 + [1] * 15, cluster_name="Group")
    document = _render(customers)
    assert "0 · Group" in document
    assert re.search(r"1 · Group</th><td class=\"num\">15</td>", document)


def test_there_is_no_cluster_section_without_clusters() -> None:
    assert "<h2>Clusters</h2>" not in _render(_customers())


def test_the_guide_says_which_score_is_best() -> None:
    assert "5 is the best score" in _render(_customers())
    four = _customers().assign(r_score=lambda d: (d["r_score"] - 1) % 4 + 1)
    assert "4 is the best score" in _render(four, bins=4)


def test_a_missing_required_column_is_reported_by_name() -> None:
    with pytest.raises(MissingColumn, match="r_score"):
        _render(_customers().drop(columns="r_score"))


def test_unknown_columns_are_ignored() -> None:
    document = _render(_customers().assign(unexpected="<whatever>"))
    assert "whatever" not in document


def test_a_segment_of_one_customer_reads_in_the_singular() -> None:
    document = _render(_customers(1))
    assert ": 1 customer · 100.0%<" in document


def test_a_missing_share_leaves_no_dangling_note_on_the_bar() -> None:
    customers = _customers()
    segments = _segments(customers)
    segments["revenue_share"] = math.nan
    document = _render(customers, segments=segments)
    assert "% of revenue" not in document
    assert f"{DASH} of revenue" not in document
    assert re.search(r"<title>Champions: [0-9.,]+k?</title>", document)


def test_derived_clusters_are_listed_in_numeric_order() -> None:
    customers = _customers(30).assign(cluster=[10] * 10 + [2] * 10 + [0] * 10)
    document = _render(customers)
    positions = [
        document.index(f'class="swatch" style="background:{c}"></span>{k}</th>')
        for k, c in (("0", "#2563eb"), ("2", "#ea580c"), ("10", "#059669"))
    ]
    assert positions == sorted(positions)


def test_clusters_sharing_a_name_stay_apart() -> None:
    customers = _customers(20).assign(cluster=[0] * 10 + [1] * 10, cluster_name="Same")
    document = _render(customers)
    assert "0 · Same (10)" in document
    assert "1 · Same (10)" in document
