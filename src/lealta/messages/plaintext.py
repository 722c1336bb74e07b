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
# The attributes of a link with only a target that needs no unescaping: most links, and
# each person's own (an unsubscribe link) would crowd _start's memory out.
_PLAIN_LINK = re.compile(r'\s*href="([^"&]*)"\s*')
_TAG_START = re.compile(r"/?[a-zA-Z]")  # what makes a "<" the start of a tag
_LONE_LT = ("", "", "", "", "<")  # the token of a "<" read as text
_LONGEST_CARRIED = 20_000  # characters of lines read together before reading the whole
_LONGEST_REMEMBERED = 2_000  # characters of a line whose reading is kept
# One token of _TOKEN.findall: closing "/", tag name, attributes, self-closing "/", text.
_Token = tuple[str, str, str, str, str]
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


class _NotExact(Exception):
    """Reading line by line would not give the whole document's text (see :func:`_run`)."""


def _run(
    tokens: list[_Token],
    out: list[str],
    skip: list[str],
    links: list[tuple[str | None, int]],
    *,
    joined: bool = False,
) -> None:
    """Add the pieces of text of ``tokens`` (``_TOKEN.findall``'s tuples: "" for a group that
    did not take part) to ``out``; ``skip`` (tags whose content is dropped, innermost last)
    and ``links`` (each open ``<a>``: its target, where its label starts in ``out``) carry
    the state from one call to the next.

    ``joined``: the tokens are one line of a document read line by line, so a text token the
    line's end cut in two may have left two spaces where the whole token writes one. The text
    is tidied of such runs at the end, except in the label of a link compared with its target:
    a target holding white space raises :class:`_NotExact` (read the document whole)."""
    for closing, tag, attributes, _self_closing, data in tokens:
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
                    if joined and (" " in href or not href.isprintable()):
                        raise _NotExact
                    if not label:
                        out.append(href)
                    elif label != href:
                        out.append(f" ({href})")
            if name in _BLOCKS:
                out.append("\n\n")
        else:
            plain = _PLAIN_LINK.fullmatch(attributes) if tag == "a" else None
            if plain is not None:  # what _start says of it, without remembering every target
                name, dropped, written, href, block = "a", False, "", plain[1], False
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


def _without_raw_text(html: str) -> str:
    if "<s" in html or "<S" in html or "<\u017f" in html:  # how <script or <style can start
        return _RAW_TEXT.sub("", html)  # (ignoring case, "\u017f" is an "s")
    return html


def _feed(html: str) -> list[str]:
    """The pieces of text of ``html``, before lines are tidied."""
    out: list[str] = []
    _run(_TOKEN.findall(_without_raw_text(html)), out, [], [])
    return out


def _cut(line: str) -> bool:
    """Whether a token of ``line`` stops short for want of the next line: a comment,
    declaration or tag that the end of the line leaves open."""
    for found in _TOKEN.finditer(line):
        token = found.group()
        if token[0] != "<":
            continue
        if token.startswith("<!--"):  # closed, or ended by the end of the line ($)
            if len(token) < 7 or not token.endswith("-->"):
                return True
        elif token.startswith(("<!", "<?")):
            if not token.endswith(">"):
                return True
        elif token == "<" and _TAG_START.match(line, found.end()):  # "<" read as text
            return True
    return False


def _read_line(line: str) -> tuple[list[_Token] | None, str | None]:
    """One line of a document (with its line break): its tokens, ``None`` when the last of
    them could run on into the next line (an unclosed comment, declaration or tag), and the
    text the line writes when it starts and ends outside any link or dropped element (then
    it reads the same wherever it stands), else ``None``."""
    tokens: list[_Token] = _TOKEN.findall(line)
    if ("<!" in line or "<?" in line or _LONE_LT in tokens) and _cut(line):
        return None, None
    out: list[str] = []
    skip: list[str] = []
    links: list[tuple[str | None, int]] = []
    _run(tokens, out, skip, links)
    return tokens, None if skip or links else "".join(out)


# A mailing's HTML repeats most of its lines for every person: each line's reading is kept.
_line = lru_cache(maxsize=8192)(_read_line)


def _feed_lines(html: str) -> list[str]:
    """:func:`_feed`, line by line: a line seen before (most of a mailing's) is not read
    again. The pieces may hold two spaces where :func:`_feed`'s hold one (a text token cut
    at a line's end); the tidying in :func:`html_to_text` makes them one."""
    out: list[str] = []
    skip: list[str] = []
    links: list[tuple[str | None, int]] = []
    carried = ""
    for piece in _without_raw_text(html).splitlines(keepends=True):
        if carried:
            if len(carried) > _LONGEST_CARRIED:  # a long comment: read the document whole
                raise _NotExact
            piece, carried = carried + piece, ""
        # a long line (minified HTML: the whole document) is read, not remembered
        tokens, written = (_line if len(piece) <= _LONGEST_REMEMBERED else _read_line)(piece)
        if written is not None and not skip and not links:
            out.append(written)
        elif tokens is None:
            carried = piece  # its last token goes on in the next line
        else:
            _run(tokens, out, skip, links, joined=True)
    if carried:
        _run(_TOKEN.findall(carried), out, skip, links, joined=True)
    return out


def html_to_text(html: str) -> str:
    """The readable text of ``html``, as described in the module docstring."""
    try:
        return _tidy(_feed_lines(html))
    except _NotExact:
        return _tidy(_feed(html))


def _tidy(pieces: list[str]) -> str:
    """The text of ``pieces``: white space in a line made one space, no line of only spaces,
    at most one blank line in a row."""
    lines = [" ".join(line.split()) for line in "".join(pieces).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
