"""The plain-text part made from HTML."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lealta.messages.plaintext import html_to_text


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
