"""Contact rows as ``identify`` messages (pure).

Identifier columns (customer id → ``userId``, e-mail, phone, anonymous id) say who the row is
about; every other column becomes an attribute (``First Name`` → ``first_name``). Empty cells
are skipped: an import adds and changes attributes, it never erases one. Values are kept as
read; attributes declared with a type are coerced by the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lealta.errors import InvalidInput
from lealta.imports import values as v
from lealta.imports.columns import attribute_name
from lealta.imports.files import Row
from lealta.imports.messages import check_customer, contact_message
from lealta.imports.outcomes import Outcome, Ready, unreadable
from lealta.imports.rejects import Rejection

IDENTIFIERS = ("user_id", "email", "phone", "anonymous_id")


class ContactRows:
    """Turns contact rows into ``identify`` messages."""

    def __init__(self, mapping: Mapping[str, str], columns: list[str], *, region: str) -> None:
        self.mapping = dict(mapping)
        self.region = region
        used = {self.mapping[r] for r in IDENTIFIERS if r in self.mapping}
        named = {col: role for role, col in self.mapping.items() if role not in IDENTIFIERS}
        self.attributes = {
            col: named.get(col) or attribute_name(col) for col in columns if col not in used
        }
        self.duplicates = 0

    @property
    def fields(self) -> dict[str, str]:
        """Message field → file column."""
        return {"userId": self.mapping.get("user_id", "userId"), **self.mapping}

    def feed(self, rows: list[Row]) -> list[Outcome]:
        """One outcome per row."""
        return [self._one(row) for row in rows]

    def finish(self) -> list[Outcome]:
        """Nothing is held back between rows."""
        return []

    def _one(self, row: Row) -> Outcome:
        if row.problem:
            return unreadable(row)
        cells = row.values
        given = {r: v.text(cells.get(self.mapping[r])) for r in IDENTIFIERS if r in self.mapping}
        if not any(given.values()):
            where = next(iter(self.mapping[r] for r in IDENTIFIERS if r in self.mapping), "email")
            return Rejection(row.line, where, "missing identifier", cells)
        try:
            customer = check_customer(**given, region=self.region)
        except InvalidInput as error:
            where = self.mapping.get(error.field or "", error.field or "")
            return Rejection(row.line, where, str(error), cells)
        traits: dict[str, Any] = {}
        for col, name in self.attributes.items():
            value = cells.get(col)
            if v.text(value) is not None:
                traits[name] = _plain(value.strip() if isinstance(value, str) else value)
        return Ready(contact_message(customer, traits), [row])


def _plain(value: Any) -> Any:
    """A cell as a JSON value (dates as ISO text, whole floats as whole numbers)."""
    import datetime as dt

    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
