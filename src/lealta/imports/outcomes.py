"""What converting input rows produces: a message ready for the pipeline, or a rejection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lealta.errors import InvalidInput
from lealta.imports.files import Row
from lealta.imports.rejects import Rejection


@dataclass
class Ready:
    """A tracking message built from ``rows`` (one row, or the lines of one order)."""

    message: dict[str, Any]
    rows: list[Row] = field(default_factory=list)

    def rejections(self, error: InvalidInput, fields: dict[str, str]) -> list[Rejection]:
        """The rows' rejections when the message itself is refused by the pipeline."""
        where = fields.get(error.field or "", error.field or "")
        return [Rejection(row.line, where, str(error), row.values) for row in self.rows]


Outcome = Ready | Rejection


def unreadable(row: Row) -> Rejection:
    """A row the reader could not make sense of."""
    return Rejection(row.line, "", row.problem or "unreadable row", row.values)
