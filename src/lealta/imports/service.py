"""Running an import: read the file in chunks, check each row, store the messages in the
tracking inbox, then apply the inbox to the profiles.

Each chunk's messages are stored in one transaction, so an interrupted import keeps what it
had stored, and running it again stores the rest (message ids already in the inbox or among
the events are skipped: re-importing a file adds nothing). The processor then applies the
inbox exactly as it applies tracked events.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lealta.errors import InvalidInput, MissingColumn
from lealta.imports.columns import (
    CONTACT_ROLES,
    EVENT_ROLES,
    ORDER_ROLES,
    map_columns,
    require,
    require_identifier,
)
from lealta.imports.contacts import ContactRows
from lealta.imports.events import EventRows
from lealta.imports.files import CHUNK_ROWS, ImportFile, Row, open_import
from lealta.imports.orders import OrderRows, OrderSettings
from lealta.imports.outcomes import Outcome, Ready
from lealta.imports.rejects import Rejections, RejectsFile
from lealta.orders.dates import detect_format
from lealta.tracking.messages import Normalized, normalize

if TYPE_CHECKING:
    from lealta.bootstrap import Services

Kind = Literal["contacts", "orders", "events"]
KINDS: tuple[Kind, ...] = ("contacts", "orders", "events")
Progress = Callable[[int, int], None]


class Converter(Protocol):
    """Turns rows into messages or rejections (contacts, orders or events)."""

    duplicates: int

    @property
    def fields(self) -> dict[str, str]: ...

    def feed(self, rows: list[Row]) -> list[Outcome]: ...

    def finish(self) -> list[Outcome]: ...


@dataclass(frozen=True)
class ImportRequest:
    """What to import and how (the options of ``lealta import``)."""

    kind: Kind
    path: Path
    format: str | None = None
    encoding: str = "utf-8"
    columns: Mapping[str, str | None] = field(default_factory=dict)
    currency: str = "EUR"
    date_format: str | None = None
    line_level: bool | None = None
    dry_run: bool = False
    rejects: Path | None = None
    chunk: int = CHUNK_ROWS


@dataclass
class ImportResult:
    """What an import did."""

    kind: Kind
    rows: int = 0
    messages: int = 0
    duplicates: int = 0
    mapping: dict[str, str] = field(default_factory=dict)
    rejections: Rejections = field(default_factory=Rejections)
    applied: int = 0
    failed: int = 0
    added: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        """Rows not imported."""
        return self.rejections.total


def import_file(
    request: ImportRequest,
    services: Services | None,
    *,
    region: str = "ES",
    on_read: Progress | None = None,
    on_apply: Progress | None = None,
) -> ImportResult:
    """Import ``request.path``; ``services`` may be ``None`` only for a dry run.

    ``on_read(done, total)`` follows the reading (bytes or rows), ``on_apply(done, total)``
    the applying of the stored messages to profiles.

    Raises
    ------
    UnreadableFile, MissingColumn
        The file cannot be read at all, or lacks a column every row needs.
    """
    if services is None and not request.dry_run:
        raise ValueError("services are needed unless dry_run")
    result = ImportResult(request.kind)
    before = None if request.dry_run or services is None else _counts(services)
    with open_import(
        request.path, forced=request.format, encoding=request.encoding, chunk=request.chunk
    ) as opened:
        columns = opened.columns if opened.fixed_columns else None
        rejects = RejectsFile(request.rejects, columns) if request.rejects else None
        result.rejections.file = rejects
        try:
            _read_all(request, opened, services, region, result, on_read)
        finally:
            if rejects is not None:
                rejects.close()
    if services is not None and before is not None:
        result.applied, result.failed = apply_inbox(services, on_apply)
        after = _counts(services)
        result.added = {name: after[name] - before[name] for name in after}
    return result


def _read_all(
    request: ImportRequest,
    opened: ImportFile,
    services: Services | None,
    region: str,
    result: ImportResult,
    on_read: Progress | None,
) -> None:
    converter: Converter | None = None
    for rows in opened.chunks():
        if converter is None:
            converter = converter_for(request, opened, rows, region)
            result.mapping = dict(getattr(converter, "mapping", {}))
        result.rows += len(rows)
        _keep(converter.feed(rows), converter, services, result, request.dry_run)
        if on_read is not None:
            on_read(opened.position(), opened.total)
    if converter is None:
        raise InvalidInput(f"{request.path}: no rows to import", field="file")
    _keep(converter.finish(), converter, services, result, request.dry_run)
    result.duplicates += converter.duplicates


def converter_for(
    request: ImportRequest, opened: ImportFile, first: list[Row], region: str
) -> Converter:
    """The converter for ``request.kind``, its columns mapped (and dates sampled) from the
    first chunk."""
    available = list(opened.columns)
    if request.kind == "contacts":
        mapping = map_columns(available, CONTACT_ROLES, request.columns)
        require_identifier(mapping, available)
        return ContactRows(mapping, available, region=region)
    if request.kind == "events":
        mapping = map_columns(available, EVENT_ROLES, request.columns)
        return EventRows(mapping, flat=opened.format != "jsonl", region=region)
    mapping = map_columns(available, ORDER_ROLES, request.columns)
    require(mapping, ("order", "date"), available)
    require_identifier(mapping, available)
    if "amount" not in mapping and "price" not in mapping:
        raise MissingColumn(
            f"no amount column (nor unit price) found among {', '.join(map(repr, available))}; "
            "name it with --amount-column or --price-column",
            field="amount",
        )
    fmt = request.date_format or _date_format(first, mapping["date"])
    settings = OrderSettings(
        currency=request.currency, date_format=fmt, region=region, line_level=request.line_level
    )
    return OrderRows(mapping, settings)


def _date_format(rows: list[Row], col: str) -> str | None:
    samples = [t for row in rows[:500] if isinstance(t := row.values.get(col), str)]
    fmt, _notes = detect_format(samples)
    return fmt


def _keep(
    outcomes: list[Outcome],
    converter: Converter,
    services: Services | None,
    result: ImportResult,
    dry_run: bool,
) -> None:
    now = services.clock.now() if services is not None else dt.datetime.now(dt.UTC)
    good: dict[str, Normalized] = {}
    for outcome in outcomes:
        if not isinstance(outcome, Ready):
            result.rejections.add(outcome)
            continue
        try:
            checked = normalize(outcome.message, received_at=now)
        except InvalidInput as error:
            for rejection in outcome.rejections(error, converter.fields):
                result.rejections.add(rejection)
            continue
        if checked.message_id in good:
            result.duplicates += len(outcome.rows)
            continue
        good[checked.message_id] = checked
    result.messages += len(good)
    if good and not dry_run and services is not None:
        from lealta.storage.retry import in_transaction
        from lealta.tracking.intake import store

        messages = list(good.values())
        in_transaction(services.uow, lambda s: store(s, messages, received_at=now))


def apply_inbox(services: Services, on_apply: Progress | None = None) -> tuple[int, int]:
    """Apply every waiting message; returns (messages handled, messages newly set aside)."""
    from lealta.tracking.processor import process_pending
    from lealta.tracking.tables import InboxMessage

    def count(session: Session, failed: bool) -> int:
        column = InboxMessage.failed_at
        condition = column.is_not(None) if failed else column.is_(None)
        query = select(func.count()).select_from(InboxMessage).where(condition)
        return int(session.scalar(query) or 0)

    with services.uow.transaction() as session:
        waiting, failed_before = count(session, False), count(session, True)
    done = 0
    if on_apply is not None:
        on_apply(0, waiting)
    while handled := process_pending(services):
        done += handled
        if on_apply is not None:
            on_apply(done, max(waiting, done))
    with services.uow.transaction() as session:
        failed_after = count(session, True)
    return done, failed_after - failed_before


def _counts(services: Services) -> dict[str, int]:
    from lealta.contacts.tables import Contact
    from lealta.events.tables import Event
    from lealta.orders.tables import Order

    with services.uow.transaction() as session:
        return {
            "contacts": int(
                session.scalar(
                    select(func.count()).select_from(Contact).where(Contact.merged_into.is_(None))
                )
                or 0
            ),
            "orders": int(session.scalar(select(func.count()).select_from(Order)) or 0),
            "events": int(session.scalar(select(func.count()).select_from(Event)) or 0),
        }
