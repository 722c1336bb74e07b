"""Rows the crash tests write straight into a store before they start workers."""

from __future__ import annotations

import datetime as dt
from typing import Any


def contact_rows(
    ids: list[str], now: dt.datetime, attributes: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """One ``contacts`` row per id (with ``attributes[i]`` for the i-th, or none)."""
    return [
        {
            "id": cid,
            "created_at": now,
            "updated_at": now,
            "attributes": attributes[i] if attributes else {},
            "score": 0.0,
            "score_state": {},
        }
        for i, cid in enumerate(ids)
    ]
