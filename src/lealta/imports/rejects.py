"""Rejected rows: what was wrong (line, field, reason) and the rejects file listing them all."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path
from typing import IO, Any

import orjson

SHOWN = 20


@dataclass(frozen=True)
class Rejection:
    """One input row that was not imported.

    ``line`` is the file line (CSV: the header is line 1, the first data row line 2; JSON
    lines: the first record is line 1) or, for Parquet, the 1-based row number.
    """

    line: int
    field: str
    reason: str
    values: Mapping[str, Any] = default(default_factory=dict)


class RejectsFile:
    """A CSV of every rejection: ``line``, ``field``, ``reason``, then the row as read.

    For files with a fixed header (CSV, Parquet) the row's own columns follow, so the file can
    be fixed and imported again; for JSON lines the record is one JSON column, ``record``.
    """

    def __init__(self, path: Path, columns: Sequence[str] | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle)
        self._columns = list(columns) if columns is not None else None
        extra = self._columns if self._columns is not None else ["record"]
        self._writer.writerow(["line", "field", "reason", *extra])

    def write(self, rejection: Rejection) -> None:
        """Append one rejection."""
        head = [rejection.line, rejection.field, rejection.reason]
        if self._columns is None:
            record = orjson.dumps(dict(rejection.values), default=str).decode()
            self._writer.writerow([*head, record])
        else:
            self._writer.writerow([*head, *(_cell(rejection.values.get(c)) for c in self._columns)])

    def close(self) -> None:
        """Flush and close the file."""
        self._handle.close()


@dataclass
class Rejections:
    """Collects rejections: counts, the first few to show, and the rejects file if any."""

    file: RejectsFile | None = None
    total: int = 0
    shown: list[Rejection] = default(default_factory=list)
    by_reason: Counter[str] = default(default_factory=Counter)

    def add(self, rejection: Rejection) -> None:
        """Record one rejection."""
        self.total += 1
        self.by_reason[rejection.field] += 1
        if len(self.shown) < SHOWN:
            self.shown.append(rejection)
        if self.file is not None:
            self.file.write(rejection)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value, default=str).decode()
    return value
