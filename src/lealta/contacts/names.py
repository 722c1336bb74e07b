"""A contact's name as search compares it: first and last name (or ``name`` when neither is
given), case-folded, accents removed, spaces collapsed. Pure.

``"  José  GARCÍA "`` → ``"jose garcia"``, so "jose", "garcia" and "José García" all find him.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

NAME_LENGTH = 200


def fold(text: str) -> str:
    """``text`` case-folded, without accents, with single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


def search_name(attributes: Mapping[str, Any] | None) -> str | None:
    """The folded name held in ``attributes``; None when they hold no name."""
    if not attributes:
        return None
    parts = [attributes.get("first_name"), attributes.get("last_name")]
    words = [str(p) for p in parts if p not in (None, "")]
    if not words and attributes.get("name") not in (None, ""):
        words = [str(attributes["name"])]
    folded = fold(" ".join(words))
    return folded[:NAME_LENGTH] or None
