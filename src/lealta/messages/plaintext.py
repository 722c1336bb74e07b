"""The plain-text part of an e-mail, made from its HTML. Pure.

Mail clients that do not show HTML (and spam filters, which like a real text part) get the
same words: headings and paragraphs become blocks separated by a blank line, ``<br>`` a line
break, list items ``- item``, links ``text (https://…)``, images their ``alt`` text. Styles,
scripts, the ``<head>`` and hidden preheaders are dropped.
"""

from __future__ import annotations

import html as html_lib
import re

_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "div", "dl", "dt", "dd", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_SKIPPED = frozenset({"head", "script", "style", "title", "template"})
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"})


# One pass of one regular expression over the HTML: comments and declarations, tags (with
# their attributes, quoted values may hold ">"), text. Several times faster than html.parser,
# which matters at a thousand messages a second.
_TOKEN = re.compile(
    r"<!--.*?(?:-->|$)|<![^>]*>?|<\?[^>]*>?"
    r"""|<(/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)(/?)>"""
    r"|([^<]+|<)",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"""([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""", re.DOTALL)
_SPACES = re.compile(r"\s+")
# Raw-text elements: what is inside is not markup (a "<p>" in a script is not a paragraph).
_RAW_TEXT = re.compile(r"<(script|style)\b[^>]*>.*?(?:</\1\s*>|$)", re.DOTALL | re.IGNORECASE)


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, double, single, bare in _ATTRIBUTE.findall(text):
        key = name.lower()
        if key not in found:
            found[key] = html_lib.unescape(double or single or bare)
    return found


def _read(tag: str, text: str) -> dict[str, str]:
    """The attributes of ``tag`` the text needs: all of them for images and links; for any
    other tag only whether its style hides it, so ``text`` is parsed only when its style can
    say ``display`` (MJML styles nearly every tag, rarely with ``display``)."""
    if tag in ("img", "a"):
        return _attributes(text)
    lowered = text.lower()
    if "style" in lowered and ("display" in lowered or "&" in text):
        return _attributes(text)
    return {}


class _Text:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.skip: list[str] = []  # tags whose content is dropped, innermost last
        self.links: list[tuple[str | None, int]] = []

    def feed(self, html: str) -> None:
        for found in _TOKEN.finditer(_RAW_TEXT.sub("", html)):
            closing, tag, attributes, _self_closing, data = found.groups()
            if data is not None:
                self.handle_data(html_lib.unescape(data))
            elif tag is not None:
                name = tag.lower()
                if closing:
                    self.handle_endtag(name)
                else:
                    self.handle_starttag(name, _read(name, attributes))

    def handle_starttag(self, tag: str, values: dict[str, str]) -> None:
        if self.skip:
            if tag not in _VOID:
                self.skip.append(tag)
            return
        if tag in _SKIPPED or _HIDDEN.search(values.get("style") or ""):
            if tag not in _VOID:
                self.skip.append(tag)
            return
        if tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "img" and values.get("alt"):
            self.out.append(values["alt"] or "")
        elif tag == "a":
            self.links.append((values.get("href"), len(self.out)))
        if tag in _BLOCKS:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag == self.skip[-1]:
                self.skip.pop()
            return
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            if href and href.startswith(("http://", "https://", "mailto:", "tel:")):
                if not label:
                    self.out.append(href)
                elif label != href:
                    self.out.append(f" ({href})")
        if tag in _BLOCKS:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(_SPACES.sub(" ", data))


def html_to_text(html: str) -> str:
    """The readable text of ``html``, as described in the module docstring."""
    parser = _Text()
    parser.feed(html)
    lines = [" ".join(line.split()) for line in "".join(parser.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
