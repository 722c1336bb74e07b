"""Event rows as tracking messages (pure).

A row is a Segment message: ``type`` (``track`` when left empty), ``event``, ``userId`` /
``anonymousId`` (or ``user_id`` / ``anonymous_id``), ``email``, ``phone``, ``timestamp``
(ISO 8601), ``messageId`` and ``properties`` (a JSON object as text, or one ``properties.x``
column per property; ``traits.x`` and ``context.x`` likewise). In a CSV or Parquet file any
other column becomes a property; in JSON lines the record is taken as the message it is.
Without a ``messageId`` the row gets ``import-event:<hash of the row>``, so importing the same
file again stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lealta.errors import InvalidInput
from lealta.imports import values as v
from lealta.imports.files import Row
from lealta.imports.messages import check_customer, content_hash, identity_fields
from lealta.imports.outcomes import Outcome, Ready, unreadable
from lealta.imports.rejects import Rejection

_NESTED = ("properties", "traits", "context")
_IDENTITY = {"email", "phone"}


class EventRows:
    """Turns event rows into messages; ``flat`` files put unknown columns in properties."""

    def __init__(self, mapping: Mapping[str, str], *, flat: bool, region: str) -> None:
        self.mapping = dict(mapping)
        self.columns = {col: role for role, col in self.mapping.items()}
        self.flat = flat
        self.region = region
        self.duplicates = 0

    @property
    def fields(self) -> dict[str, str]:
        """Message field → file column."""
        return dict(self.mapping)

    def feed(self, rows: list[Row]) -> list[Outcome]:
        """One outcome per row."""
        out: list[Outcome] = []
        for row in rows:
            if row.problem:
                out.append(unreadable(row))
                continue
            try:
                out.append(Ready(self._message(row.values), [row]))
            except InvalidInput as error:
                where = self.mapping.get(error.field or "", error.field or "")
                out.append(Rejection(row.line, where, str(error), row.values))
        return out

    def finish(self) -> list[Outcome]:
        """Nothing is held back between rows."""
        return []

    def _message(self, cells: Mapping[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for col, value in cells.items():
            if v.text(value) is None and not isinstance(value, dict | list):
                continue
            role = self.columns.get(col)
            prefix, _, key = col.partition(".")
            if role in _NESTED:
                parsed = v.json_object(value, role)
                if parsed:
                    nested.setdefault(role, {}).update(parsed)
            elif role is not None:
                message[role] = value.strip() if isinstance(value, str) else value
            elif key and prefix in _NESTED:
                nested.setdefault(prefix, {})[key] = v.scalar(value)
            elif self.flat:
                nested.setdefault("properties", {})[col] = v.scalar(value)
            else:
                message[col] = value
        message.update(nested)
        message.setdefault("type", "track")
        self._identify(message)
        if "timestamp" in message:
            message["timestamp"] = _timestamp(message["timestamp"])
        if not message.get("messageId"):
            message["messageId"] = f"import-event:{content_hash(message, 40)}"
        return {k: value for k, value in message.items() if value is not None}

    def _identify(self, message: dict[str, Any]) -> None:
        """E-mail and phone checked and moved to ``context.traits`` (an anonymous id derived
        from them when the row has neither userId nor anonymousId)."""
        found = {k: message.pop(k) for k in list(message) if k in _IDENTITY}
        if not found:
            return
        customer = check_customer(**{k: v.text(x) for k, x in found.items()}, region=self.region)
        fields = identity_fields(customer)
        context = dict(message.get("context") or {})
        context["traits"] = {**(context.get("traits") or {}), **fields["context"]["traits"]}
        message["context"] = context
        if message.get("type") == "identify":
            message["traits"] = {**(message.get("traits") or {}), **fields["context"]["traits"]}
        if not message.get("userId") and not message.get("anonymousId"):
            message["anonymousId"] = fields["anonymousId"]


def _timestamp(value: Any) -> Any:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
