"""MJML converted to HTML once per template version, the person's parts filled in after. Pure.

Turning MJML into HTML is the same work for every person who gets a template: only the
template's own tags (``{{ … }}``, ``{% … %}``, ``{# … #}``) differ. :func:`html_template`
stands each tag in for a placeholder (``LEALTA…X``: letters and digits, which MJML copies
as they are into text and attribute values), converts that once, and puts the tags back
where their placeholders came out. The result is an HTML template the sandbox renders for each
person like any other, then :func:`finish` tidies it; it is cached by its MJML source, so each
version of a template is converted once per process (a changed template is a new source).

MJML drops text that is only white space between two tags, and keeps any other text as
written. Converted once, it cannot know which text a person's values or statements will leave
blank, so each tag standing in text is flanked by :data:`MARK` in the skeleton, and
:func:`finish` applies the same rule to the rendered HTML: text between two tags that holds a
mark is dropped when it is only white space, and the marks are removed.

When a tag stands in an MJML component's attribute that MJML computes with (anything but
:data:`VERBATIM`: ``padding="{{ p }}"`` changes column widths), or MJML does not carry every
placeholder through once and in order, there is no skeleton and the caller converts the
rendered MJML per message as before (:func:`lealta.messages.render.render` does). Both paths
give the same HTML: ``tests/unit/messages/test_mjml_skeleton.py`` checks it on every shipped
template, for people who take different branches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

MARK = "\ue000"  # a private-use character: where a tag stood in text
CACHED_SOURCES = 512
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_PLACEHOLDER = re.compile(r"LEALTA(\d{6})X")
_ELEMENT = re.compile(r"<[^<>]*>")
_SPLIT = re.compile(r"LEALTA(\d{6})X")
_MJML_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
# Attributes of MJML components that MJML copies as written (others, such as ``padding`` or
# ``width``, feed its layout arithmetic, so a placeholder there would not stand for the value).
VERBATIM = frozenset({"href", "src", "alt", "title", "name", "rel", "target", "css-class"})


def html_template(source: str, convert: Callable[[str], str]) -> str | None:
    """The HTML template that ``convert`` (MJML to HTML) makes of MJML ``source``, its tags
    kept and marked; ``None`` when the tags do not survive the conversion unchanged (see the
    module docstring). Cached by ``source`` (``convert`` is the same function on every call).
    Its rendering goes through :func:`finish`."""
    return _cached(source, convert)


def finish(rendered: str) -> str:
    """A rendered skeleton as MJML would have written it: text between two tags where a
    template tag stood dropped when it is only white space starting with a line break, and
    the marks removed."""
    pieces: list[str] = []
    at = 0
    while (mark := rendered.find(MARK, at)) >= 0:
        start = rendered.rfind(">", at, mark) + 1 or at
        end = rendered.find("<", mark)
        end = len(rendered) if end < 0 else end
        text = rendered[start:end].replace(MARK, "")
        dropped = text.startswith("\n") and text.isspace()
        pieces += (rendered[at:start], "" if dropped else text)
        at = end
    pieces.append(rendered[at:])
    return "".join(pieces)


@lru_cache(maxsize=CACHED_SOURCES)
def _cached(source: str, convert: Callable[[str], str]) -> str | None:
    if _PLACEHOLDER.search(source) or MARK in source:
        return None  # the source already holds what the skeleton uses as placeholders
    tags: list[str] = []

    def stand_in(found: re.Match[str]) -> str:
        tags.append(found.group(0))
        return f"LEALTA{len(tags) - 1:06d}X"

    marked = _TAG.sub(stand_in, source)
    if not _attributes_verbatim(marked):
        return None
    marked = _mark_text(marked, tags)
    try:
        converted = convert(marked)
    except Exception:  # the per-message conversion reports it, with the MJML source's lines
        return None
    found = [int(number) for number in _PLACEHOLDER.findall(converted)]
    if found != list(range(len(tags))):
        return None
    return _PLACEHOLDER.sub(lambda m: tags[int(m.group(1))], converted)


def _mark_text(marked: str, tags: list[str]) -> str:
    """``marked`` with each placeholder standing in text (not inside an element's ``<…>``)
    flanked by :data:`MARK`."""
    pieces: list[str] = []
    at = 0
    for element in _ELEMENT.finditer(marked):
        pieces += (_mark_segment(marked[at : element.start()], tags), element.group(0))
        at = element.end()
    pieces.append(_mark_segment(marked[at:], tags))
    return "".join(pieces)


def _mark_segment(text: str, tags: list[str]) -> str:
    """One text between elements with a mark on each side of its placeholders. A mark never
    stands between a tag with white-space control (``{%-``, ``-%}``) and the white space
    that the tag removes."""
    parts = _SPLIT.split(text)
    if len(parts) == 1:
        return text
    out: list[str] = []
    for i in range(0, len(parts), 2):
        before = tags[int(parts[i - 1])] if i else None  # the tag left of this text
        after = tags[int(parts[i + 1])] if i + 1 < len(parts) else None
        out.append(_marked_between(parts[i], before, after))
        if after is not None:
            out.append(f"LEALTA{parts[i + 1]}X")
    return "".join(out)


def _marked_between(text: str, before: str | None, after: str | None) -> str:
    eats_after = before is not None and before[-3] == "-"  # ``-%}``: strips what follows
    eats_before = after is not None and after[2] == "-"  # ``{%-``: strips what precedes
    core = text.strip()
    if not core and (eats_after or eats_before):
        text = ""  # the tags remove it all
    lead = text[: len(text) - len(text.lstrip())] if core else text
    trail = text[len(text.rstrip()) :] if core else ""
    left = "" if before is None else MARK
    right = "" if after is None else MARK
    if eats_after:
        lead, left = lead + left, ""
    if eats_before:
        trail, right = right + trail, ""
    return left + lead + core + trail + right


def _attributes_verbatim(marked: str) -> bool:
    """Whether every placeholder in an MJML component's attributes is in one MJML copies."""
    for element in _ELEMENT.finditer(marked):
        tag = element.group(0)
        if tag.startswith(("<mj-", "<mjml")) and _PLACEHOLDER.search(tag):
            for name, value in _MJML_ATTRIBUTE.findall(tag):
                if _PLACEHOLDER.search(value) and name.lower() not in VERBATIM:
                    return False
            if _PLACEHOLDER.search(_MJML_ATTRIBUTE.sub("", tag)):
                return False  # a tag where no attribute value is expected
    return True
