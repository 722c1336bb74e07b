"""The plain-text part made from HTML."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lealta.automations import catalog as workflows
from lealta.messages import plaintext
from lealta.messages.plaintext import html_to_text
from lealta.messages.render import render
from tests.unit.messages.test_library import SHIPPED, USES, _context


def test_blocks_lists_links_and_images_read_as_text() -> None:
    html = """<html><head><title>T</title><style>p{color:red}</style></head><body>
    <div style="display:none">hidden preheader</div>
    <h1>Your   order</h1><p>Thanks,&nbsp;Ana &amp; co.<br>See you soon.</p>
    <ul><li>Tea</li><li>Cup</li></ul>
    <p><a href="https://shop.example/o/1">Track it</a> or <a href="https://shop.example">https://shop.example</a></p>
    <img src="x.png" alt="Logo"><script>alert(1)</script>
    </body></html>"""
    assert html_to_text(html) == (
        "Your order\n\nThanks, Ana & co.\nSee you soon.\n\n- Tea\n- Cup\n\n"
        "Track it (https://shop.example/o/1) or https://shop.example\n\nLogo\n"
    )


@given(st.text(max_size=300))
def test_any_input_gives_text_without_runs_of_blank_lines(html: str) -> None:
    text = html_to_text(html)
    assert "\n\n\n" not in text
    assert text.endswith("\n")


def test_a_style_hides_its_element_however_it_is_written() -> None:
    html = (
        '<p STYLE="color:red">shown</p><div style="DISPLAY : none">a</div>'
        '<td style="&#100;isplay:none">b</td><span style="display:inline-block">c</span>'
    )
    assert html_to_text(html) == "shown\n\nc\n"


def test_scripts_and_styles_are_dropped_however_their_tag_is_written() -> None:
    html = "<p>a</p><SCRIPT>b()</SCRIPT><Style >c</Style><p>d</p>"
    assert html_to_text(html) == "a\n\nd\n"
    # ignoring case, a long s is an s: what follows it is a style that is never closed
    assert html_to_text(html + "<\u017ftyle>p{}</style><p>e</p>") == "a\n\nd\n"


# -- reading line by line gives the text of reading the document whole -----------------------

# Pieces of HTML that are awkward for reading line by line: tags, comments and declarations
# running over a line break, a "<" that is or is not a tag, quoted ">" and line breaks in
# attributes, links whose label runs over lines (and a target holding a space), dropped
# elements, entities beside line breaks, every kind of line break str.splitlines knows.
AWKWARD = (
    "<p>", "</p>", "<div>", "</div>", "<td>", "<li>", "<br>", "<table>", "</table>", "</a>",
    '<a href="https://x.example/a b">', "<a href='https://y.example'>", "https://y.example",
    '<a\nhref="https://z.example"\n>', '<a title="x>\ny" href="https://q.example">',
    '<a href="mailto:a@b.example">', '<a href="https://t.example/\tx">', "<img alt=\"A\nB\">",
    '<div style="display:none">', "<title>", "</title>", "<head>", "</head>", "<script>",
    "</script>", "<style>", "</style>", "<!--", "-->", "<!-- c -->", "<!-->", "<!--->", "<!x",
    "<?pi", ">", "<", "< b", "<b", "</", "text", "Ana", "x\ny", "&amp;", "&nbsp;", "&amp\n",
    "\n", "\r\n", "\r", " ", "  ", "\t", "\f", "\x0b", "\x1c", "\x85", "\u2028",
    '<a href="https://p.example/1">', '<a\n href="https://p.example/2" >', '<a href="">',
    '<a href="https://p.example/?a=1&amp;b=2">', '<A href="https://p.example/3">',
)  # fmt: skip


def _whole(html: str) -> str:
    return plaintext._tidy(plaintext._feed(html))


@given(st.lists(st.sampled_from(AWKWARD), max_size=40))
def test_reading_line_by_line_gives_the_text_of_the_whole_document(pieces: list[str]) -> None:
    html = "".join(pieces)
    assert html_to_text(html) == _whole(html)
    assert html_to_text(html) == _whole(html)  # again, from the lines remembered


def test_a_link_label_over_two_lines_reads_as_the_whole_document_does() -> None:
    # two spaces where the line break cut the label's text, one in the whole document: the
    # label then equals the target only in the whole reading
    html = '<p><a href="https://x.example/a b">https://x.example/a \n b</a></p>'
    assert html_to_text(html) == _whole(html) == "https://x.example/a b\n"
    html = '<a href="https://x.example">Shop\n  now</a> <!-- a\n comment -->\n<p>x</p>'
    assert html_to_text(html) == _whole(html) == "Shop now (https://x.example)\n\nx\n"


@pytest.mark.parametrize(
    "html",
    [
        "<p>a</p><!-->\n--><p>b</p>",  # a comment that only looks closed
        "<p>a</p><!-- x\n y --><p>b</p>",
        "<!x\n>b",  # a declaration closed on the next line
        "<?pi\n?>b",
        '<p>a <b\nclass="c">b</b></p>',  # a tag over two lines
        '<a title="x>\ny" href="https://q.example">q</a>',
        "a < b\n<p>c</p>",  # a "<" that is text
    ],
)
def test_markup_over_a_line_break_reads_as_the_whole_document_does(html: str) -> None:
    assert html_to_text(html) == _whole(html)
    assert html_to_text(html) == _whole(html)


@pytest.mark.parametrize(("template_id", "workflow"), sorted({(t, r.id) for t, _, r in USES}))
def test_the_shipped_templates_read_the_same_line_by_line(template_id: str, workflow: str) -> None:
    rules = workflows.load_template(workflow)
    for language in ("en", "it"):
        html = render(SHIPPED[template_id]["body"], _context(rules, language))["html"]
        assert html_to_text(html) == _whole(html)


@pytest.mark.parametrize(
    "attributes",
    [
        ' href="https://p.example/1"',
        '\n\thref="https://p.example/2"  ',
        ' href=""',
        '\xa0href="https://p.example/3"\xa0',
        ' href="https://p.example/a>b"',
    ],
)
def test_a_link_with_only_a_target_reads_as_start_tags_are_read(attributes: str) -> None:
    found = plaintext._PLAIN_LINK.fullmatch(attributes)
    assert found is not None
    assert plaintext._start.__wrapped__("a", attributes) == ("a", False, "", found[1], False)


def test_a_long_line_is_read_without_being_remembered() -> None:
    # minified HTML is one line, and each person's differs: keeping them would hold whole
    # documents by the thousand
    html = "<p>" + "word " * 1_000 + "</p><p>Ana</p>"
    plaintext._line.cache_clear()
    assert html_to_text(html) == _whole(html)
    assert plaintext._line.cache_info().currsize == 0
    assert html_to_text("<p>short</p>\n<p>Ana</p>") == "short\n\nAna\n"
    assert plaintext._line.cache_info().currsize == 2
