"""How long an SMS is: its encoding, and the segments it is split into and billed as. Pure.

A text made only of the GSM 03.38 default alphabet goes as **GSM-7**: 7-bit septets, 160 per
single message. Characters of the alphabet's extension table (``€ [ ] { } \\ ^ ~ |`` and form
feed) are sent as an escape plus a septet, so they count **2**. Any other character (``ç``,
``ł``, an emoji …) switches the whole message to **UCS-2**: 70 UTF-16 code units per single
message, and a character outside the Basic Multilingual Plane (most emoji) takes 2 of them.

A longer message is split into segments carrying a 6-byte header (UDH) each, leaving 153
septets (GSM-7) or 67 code units (UCS-2) per segment. A two-septet character or a surrogate
pair is never split across segments: when it does not fit at the end of one segment, the
segment is sent short and the character opens the next one, as handsets and providers do.

:func:`reply_keyword` tells an opt-out reply (``STOP`` …) and an opt-in reply (``START``) from
any other text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE = {"GSM-7": 160, "UCS-2": 70}
PER_SEGMENT = {"GSM-7": 153, "UCS-2": 67}
# Twilio refuses bodies over 1,600 characters; carriers reassemble at most about 10 segments
# reliably, which is the limit Lealta applies by default.
MAX_BODY_CHARACTERS = 1600
MAX_SEGMENTS = 10

# The carrier-standard keywords (as Twilio's Advanced Opt-Out knows them).
OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})


@dataclass(frozen=True)
class SmsSize:
    """The size of one SMS text.

    Attributes
    ----------
    encoding
        ``GSM-7`` or ``UCS-2``.
    units
        Septets (GSM-7, extension characters counting 2) or UTF-16 code units (UCS-2).
    segments
        Messages it is sent (and billed) as; 0 for an empty text.
    """

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 alphabet or its extension."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _gsm7_cost(ch: str) -> int:
    return 2 if ch in GSM7_EXTENSION else 1


def _ucs2_cost(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def measure(text: str) -> SmsSize:
    """The encoding, length in units and segment count of ``text`` (see the module docs).

    >>> measure("a" * 160), measure("a" * 161).segments, measure("€").units
    (SmsSize(encoding='GSM-7', units=160, segments=1), 2, 2)
    >>> measure("ç" * 70).segments, measure("ç" * 71).segments, measure("👍").units
    (1, 2, 2)
    """
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    cost = _gsm7_cost if encoding == "GSM-7" else _ucs2_cost
    costs = [cost(ch) for ch in text]
    units = sum(costs)
    if units == 0:
        return SmsSize(encoding, 0, 0)
    if units <= SINGLE[encoding]:
        return SmsSize(encoding, units, 1)
    return SmsSize(encoding, units, _packed(costs, PER_SEGMENT[encoding]))


def _packed(costs: list[int], room: int) -> int:
    """Segments of ``room`` units needed for characters of ``costs``, none split in two."""
    segments, used = 1, 0
    for cost in costs:
        if used + cost > room:
            segments, used = segments + 1, 0
        used += cost
    return segments


def segment_count(text: str) -> int:
    """The number of segments ``text`` is sent as (0 for an empty text)."""
    return measure(text).segments


def reply_keyword(body: str) -> Literal["stop", "start"] | None:
    """``stop`` for an opt-out reply, ``start`` for an opt-in one, ``None`` for other text.

    The whole reply must be the keyword, in any case, spaces and final punctuation aside
    (``" Stop."``); a sentence that merely contains "stop" is not an opt-out.

    >>> reply_keyword(" stop "), reply_keyword("Unstop!"), reply_keyword("please stop")
    ('stop', 'start', None)
    """
    word = body.strip().rstrip(".!").strip().upper()
    if word in OPT_OUT_KEYWORDS:
        return "stop"
    if word in OPT_IN_KEYWORDS:
        return "start"
    return None
