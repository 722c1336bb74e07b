"""The plain-text part of an e-mail, made from its HTML. Pure.

Mail clients that do not show HTML (and spam filters, which like a real text part) get the
same words: headings and paragraphs become blocks separated by a blank line, ``<br>`` a line
break, list items ``- item``, links ``text (https://…)``, images their ``alt`` text. Styles,
scripts, the ``<head>`` and hidden preheaders are dropped.
"""

from __future__ import annotations

import html as html_lib
import re
from functools import lru_cache

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
    r"""|<(/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']++|"[^"]*+"|'[^']*+')*+)(/?)>"""
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


@lru_cache(maxsize=4096)  # a mailing's HTML repeats the same few tags for every person
def _start(tag: str, attributes: str) -> tuple[str, bool, str, str | None, bool]:
    """What a start tag means for the text: its name, whether its content is dropped (a
    skipped element or one its style hides), the text it writes, its link target (``<a>``;
    ``None`` for any other tag) and whether it is a block."""
    name = tag.lower()
    values = _read(name, attributes)
    dropped = name in _SKIPPED or bool(_HIDDEN.search(values.get("style") or ""))
    written = ""
    if name == "br":
        written = "\n"
    elif name == "li":
        written = "\n- "
    elif name in ("td", "th"):
        written = " "
    elif name == "img":
        written = values.get("alt") or ""
    return name, dropped, written, values.get("href") if name == "a" else None, name in _BLOCKS


@lru_cache(maxsize=4096)
def _data(data: str) -> str:
    return _SPACES.sub(" ", html_lib.unescape(data))


def _feed(html: str) -> list[str]:
    """The pieces of text of ``html``, before lines are tidied."""
    out: list[str] = []
    skip: list[str] = []  # tags whose content is dropped, innermost last
    links: list[tuple[str | None, int]] = []  # open <a>: its target, where its label starts
    # findall gives each token's groups as a tuple ("" for a group that did not take part)
    if "<s" in html or "<S" in html or "<\u017f" in html:  # how <script or <style can start
        html = _RAW_TEXT.sub("", html)  # (ignoring case, "\u017f" is an "s")
    for closing, tag, attributes, _self_closing, data in _TOKEN.findall(html):
        if data:
            if not skip:
                out.append(_data(data))
        elif not tag:
            continue  # a comment or declaration
        elif closing:
            name = tag.lower()
            if skip:
                if name == skip[-1]:
                    skip.pop()
                continue
            if name == "a" and links:
                href, start = links.pop()
                label = "".join(out[start:]).strip()
                if href and href.startswith(("http://", "https://", "mailto:", "tel:")):
                    if not label:
                        out.append(href)
                    elif label != href:
                        out.append(f" ({href})")
            if name in _BLOCKS:
                out.append("\n\n")
        else:
            name, dropped, written, href, block = _start(tag, attributes)
            if skip or dropped:
                if name not in _VOID:
                    skip.append(name)
                continue
            if written:
                out.append(written)
            if name == "a":
                links.append((href, len(out)))
            if block:
                out.append("\n\n")
    return out


def html_to_text(html: str) -> str:
    """The readable text of ``html``, as described in the module docstring."""
    lines = [" ".join(line.split()) for line in "".join(_feed(html)).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
