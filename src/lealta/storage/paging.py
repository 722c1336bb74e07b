"""Keyset paging: an opaque cursor naming the last row of a page by (time, id), so the next page
starts just after it however many rows come before (no OFFSET scans at a million rows)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import orjson

from lealta.errors import InvalidInput


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def encode_cursor(at: dt.datetime, row_id: str) -> str:
    """An opaque cursor pointing just after the row (``at``, ``row_id``)."""
    raw = orjson.dumps([_utc(at).isoformat(), row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """The (time, id) a cursor from :func:`encode_cursor` points after; ``InvalidInput``
    naming ``cursor`` when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, row_id = orjson.loads(raw)
        return _utc(dt.datetime.fromisoformat(stamp)), str(row_id)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidInput("the cursor is not one this API gave out", field="cursor") from None
