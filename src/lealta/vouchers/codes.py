"""Voucher codes (pure): random, unguessable, easy to read aloud and to type.

Codes use 31 symbols that cannot be mistaken for one another: the digits 2-9 and the letters
without I, L and O (so no 0/O or 1/I/L confusion), about 4.95 bits each. Codes are compared
without case, spaces or dashes: ``abcd efgh jkmn pqrs`` is ``ABCD-EFGH-JKMN-PQRS``.

The default of 16 symbols gives 79 bits, shown in four groups of four after the prefix, if
any; 13 symbols (64 bits) is the shortest allowed, since 12 would give only 59.5 bits.
"""

from __future__ import annotations

import math
import re
import secrets

from lealta.errors import InvalidInput

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BITS_PER_SYMBOL = math.log2(len(ALPHABET))
MIN_BITS = 60
DEFAULT_LENGTH = 16
MAX_CODE = 32  # the width of the ``vouchers.code`` column
GROUP = 4
_SEPARATORS = re.compile(r"[\s\-]+")
_CANONICAL = re.compile(r"^[A-Z0-9]+$")


def entropy_bits(length: int) -> float:
    """The entropy of a random part of ``length`` symbols."""
    return length * BITS_PER_SYMBOL


def new_code(length: int = DEFAULT_LENGTH, prefix: str = "") -> str:
    """A fresh code: ``prefix`` then ``length`` random symbols, shown by :func:`format_code`.

    ``new_code()`` → ``"K7QM-3XRT-A9HD-WPE4"``, ``new_code(prefix="spring")`` →
    ``"SPRING-K7QM-3XRT-A9HD-WPE4"``; ``normalize_code`` of it is what is stored.

    Raises
    ------
    InvalidInput
        ``length`` gives under 60 bits, or the code would not fit 32 characters.
    """
    if entropy_bits(length) < MIN_BITS:
        shortest = math.ceil(MIN_BITS / BITS_PER_SYMBOL)
        raise InvalidInput(f"a code needs at least {shortest} symbols", field="length")
    head = normalize_code(prefix) if prefix else ""
    if len(head) + length > MAX_CODE:
        raise InvalidInput(
            f"prefix and code must fit {MAX_CODE} characters together", field="prefix"
        )
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return format_code(head + body)


def normalize_code(text: str) -> str:
    """The canonical form of a typed code: upper case, without spaces or dashes.

    Raises
    ------
    InvalidInput
        Nothing left, characters other than letters and digits, or longer than 32.
    """
    code = _SEPARATORS.sub("", str(text)).upper()
    if not code or not _CANONICAL.match(code) or len(code) > MAX_CODE:
        raise InvalidInput(
            f"a voucher code is 1 to {MAX_CODE} letters and digits; got {text!r}", field="code"
        )
    return code


def format_code(code: str) -> str:
    """``code`` for reading: its last 16 symbols in groups of four counted from the end, and
    anything before them (a prefix) as one group.

    ``format_code("SPRINGK7QM3XRTA9HDWPE4")`` → ``"SPRING-K7QM-3XRT-A9HD-WPE4"``.
    """
    canonical = normalize_code(code)
    cut = max(0, len(canonical) - DEFAULT_LENGTH)
    head, tail = canonical[:cut], canonical[cut:]
    groups = [tail[max(0, end - GROUP) : end] for end in range(len(tail), 0, -GROUP)][::-1]
    return "-".join([head, *groups] if head else groups)
