"""The SVG chart helpers: well-formed, escaped, and drawing what they are given."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from lealta.report import svg


def _parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == "svg"
    return root


def _with_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(tag) if e.get("class") == cls]


def _tooltips(elements: list[ET.Element]) -> list[str]:
    return [e.findtext("title") or "" for e in elements]


def _heatmap(values: list[list[float]], **kwargs: object) -> str:
    n_rows, n_cols = len(values), len(values[0]) if values else 0
    return svg.heatmap(
        values,
        row_labels=[f"r{i}" for i in range(n_rows)],
        col_labels=[f"c{j}" for j in range(n_cols)],
        row_title="Rows",
        col_title="Columns",
        title="A heatmap",
        **kwargs,  # type: ignore[arg-type]
    )


def test_numbers_get_thousands_separators_and_missing_ones_a_dash() -> None:
    assert svg.format_number(1234567) == "1,234,567"
    assert svg.format_number(1234.5, 2) == "1,234.50"
    assert svg.format_number(math.nan) == svg.DASH
    assert svg.format_number(math.inf) == svg.DASH


def test_percentages_have_one_decimal() -> None:
    assert svg.format_percent(0.2314) == "23.1%"
    assert svg.format_percent(1.0) == "100.0%"
    assert svg.format_percent(math.nan) == svg.DASH


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (7, "7"),
        (12.5, "12.5"),
        (523.4, "523"),
        (1234, "1.23k"),
        (22_345, "22.3k"),
        (999_960, "1M"),
        (3_400_000, "3.4M"),
        (-4_500, "-4.5k"),
        (math.nan, svg.DASH),
    ],
)
def test_compact_numbers_keep_about_three_significant_digits(value: float, expected: str) -> None:
    assert svg.format_compact(value) == expected


def test_a_heatmap_is_well_formed_and_has_one_cell_per_row_and_column() -> None:
    root = _parse(_heatmap([[1, 2, 3], [4, 5, 6]]))
    cells = _with_class(root, "rect", "cell")
    assert len(cells) == 6
    assert _tooltips(cells)[5] == "Rows r1, Columns c2: 6"


def test_a_heatmap_prints_every_value_and_shades_the_largest_darkest() -> None:
    root = _parse(_heatmap([[0, 10], [40, 100]]))
    texts = [t.text for t in root.iter("text")]
    assert {"0", "10", "40", "100"} <= set(texts)
    fills = [c.get("fill") or "" for c in _with_class(root, "rect", "cell")]
    brightness = [sum(int(f[k : k + 2], 16) for k in (1, 3, 5)) for f in fills]
    assert brightness == sorted(brightness, reverse=True)


def test_a_heatmap_copes_with_missing_values_and_an_all_zero_grid() -> None:
    root = _parse(_heatmap([[math.nan, 0.0], [0.0, 0.0]]))
    assert svg.DASH in [t.text for t in root.iter("text")]
    assert len(_with_class(root, "rect", "cell")) == 4


def test_a_heatmap_uses_the_label_format_in_cells_and_the_value_format_in_tooltips() -> None:
    root = _parse(_heatmap([[12_345.0]], label_format=svg.format_compact))
    assert "12.3k" in [t.text for t in root.iter("text")]
    assert _tooltips(_with_class(root, "rect", "cell")) == ["Rows r0, Columns c0: 12,345"]


def test_a_heatmap_refuses_values_that_do_not_match_its_labels() -> None:
    with pytest.raises(ValueError, match="one row per row label"):
        svg.heatmap(
            [[1.0]], row_labels=["a", "b"], col_labels=["x"], row_title="", col_title="", title=""
        )


def test_heatmap_labels_and_titles_are_escaped() -> None:
    markup = svg.heatmap(
        [[1.0]],
        row_labels=["<script>"],
        col_labels=["&"],
        row_title="R",
        col_title="F",
        title='"quoted" <title>',
    )
    assert "<script>" not in markup
    root = _parse(markup)
    assert root.get("aria-label") == '"quoted" <title>'
    assert "<script>" in [t.text for t in root.iter("text")]


def test_a_bar_chart_draws_one_bar_per_label_scaled_to_the_largest() -> None:
    root = _parse(svg.bar_chart(["a", "b", "c"], [50.0, 100.0, 0.0], title="Bars"))
    widths = [float(b.get("width") or "nan") for b in _with_class(root, "rect", "bar")]
    assert widths[0] == pytest.approx(widths[1] / 2)
    assert widths[2] == 0.0


def test_a_bar_chart_prints_the_value_and_the_note_after_each_bar() -> None:
    markup = svg.bar_chart(
        ["Champions"],
        [1234.0],
        title="Bars",
        value_format=lambda v: f"{svg.format_number(v)} customers",
        notes=["23.1% of revenue"],
    )
    texts = [t.text for t in _parse(markup).iter("text")]
    assert "1,234 customers · 23.1% of revenue" in texts


def test_a_long_bar_label_is_shortened_on_screen_but_whole_in_its_tooltip() -> None:
    label = "A very long segment name that goes on and on " * 3
    root = _parse(svg.bar_chart([label], [1.0], title="Bars"))
    shown = [t.text or "" for t in root.iter("text")]
    assert any(s.endswith("…") and len(s) < 40 for s in shown)
    assert _tooltips(_with_class(root, "rect", "bar"))[0].startswith(label)


def test_a_bar_chart_copes_with_no_bars_and_with_missing_values() -> None:
    _parse(svg.bar_chart([], [], title="Nothing"))
    root = _parse(svg.bar_chart(["x", "y"], [math.nan, -5.0], title="Odd values"))
    assert [b.get("width") for b in _with_class(root, "rect", "bar")] == ["0.0", "0.0"]


def test_a_bar_chart_escapes_its_labels() -> None:
    markup = svg.bar_chart(["<b>bold</b> & co"], [1.0], title="Bars", notes=["<i>"])
    assert "<b>" not in markup
    assert "<i>" not in markup
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in markup


def test_a_score_histogram_has_one_bar_per_score_with_count_and_share() -> None:
    root = _parse(svg.score_histogram([10, 30, 0, 40, 20], title="R", axis_label="R score"))
    bars = _with_class(root, "rect", "bar")
    assert len(bars) == 5
    assert _tooltips(bars)[1] == "R score 2: 30 (30.0%)"
    heights = [float(b.get("height") or "nan") for b in bars]
    assert heights[3] == max(heights)
    assert heights[2] == 0.0


def test_a_score_histogram_of_nobody_is_still_drawn() -> None:
    root = _parse(svg.score_histogram([0, 0, 0], title="Empty"))
    assert len(_with_class(root, "rect", "bar")) == 3


def test_a_scatter_draws_every_point_with_a_legend_entry_per_category() -> None:
    markup = svg.scatter(
        [1, 2, 3, 4],
        [10, 20, 30, 40],
        ["b", "a", "b", "a"],
        title="Scatter",
        x_label="x",
        y_label="y",
        order=["a", "b"],
    )
    root = _parse(markup)
    points = _with_class(root, "circle", "point")
    assert len(points) == 4
    texts = [t.text or "" for t in root.iter("text")]
    assert texts.index("a (2)") < texts.index("b (2)")
    colour_of = {p.findtext("title", "").split(":")[0]: p.get("fill") for p in points}
    assert colour_of["a"] == svg.PALETTE[0]
    assert colour_of["b"] == svg.PALETTE[1]


def test_a_scatter_caps_the_points_drawn_by_a_repeatable_sample() -> None:
    n = 5000
    args = ([float(i) for i in range(n)], [float(i % 97 + 1) for i in range(n)], ["c"] * n)
    first = svg.scatter(*args, title="S", x_label="x", y_label="y", max_points=300)
    second = svg.scatter(*args, title="S", x_label="x", y_label="y", max_points=300)
    assert first == second
    assert len(_with_class(_parse(first), "circle", "point")) == 300
    assert "300 of 5,000 points shown (a fixed random sample)" in first


def test_a_log_axis_leaves_out_values_it_cannot_place_and_says_so() -> None:
    markup = svg.scatter(
        [1, 2, 3, 4],
        [0.0, -1.0, 100.0, math.nan],
        ["a"] * 4,
        title="S",
        x_label="x",
        y_label="y",
        log_y=True,
        noun="customers",
    )
    root = _parse(markup)
    assert len(_with_class(root, "circle", "point")) == 1
    assert "1 of 4 customers shown; 3 without values that can be placed are left out" in markup
    ticks = [t.text for t in root.iter("text")]
    assert "100" in ticks


def test_a_scatter_of_one_point_or_none_is_still_drawn() -> None:
    _parse(svg.scatter([5.0], [50.0], ["only"], title="S", x_label="x", y_label="y", log_y=True))
    _parse(svg.scatter([], [], [], title="S", x_label="x", y_label="y", log_x=True))


def test_a_scatter_escapes_point_labels_and_categories() -> None:
    markup = svg.scatter(
        [1.0],
        [2.0],
        ["<cluster>"],
        title="S",
        x_label="x",
        y_label="y",
        point_labels=["<script>alert(1)</script>"],
    )
    assert "<script>" not in markup
    assert "<cluster>" not in markup
    tip = _with_class(_parse(markup), "circle", "point")[0].findtext("title")
    assert tip == "<script>alert(1)</script> · <cluster>: x 1, y 2"


def test_a_scatter_refuses_inputs_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        svg.scatter([1.0, 2.0], [1.0], ["a", "b"], title="S", x_label="x", y_label="y")


def test_an_empty_note_adds_nothing_after_the_value() -> None:
    root = _parse(svg.bar_chart(["a", "b"], [1.0, 2.0], title="Bars", notes=["", "half"]))
    texts = [t.text for t in root.iter("text")]
    assert "1" in texts
    assert "2 · half" in texts
