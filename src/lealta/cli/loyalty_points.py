"""``lealta loyalty points balance|history|adjust|redeem|liability|sweep``: the points ledger
in the state store."""

from __future__ import annotations

import dataclasses
import getpass
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer

from lealta.cli.errors import friendly

T = TypeVar("T")

points_app = typer.Typer(
    help="Loyalty points: balances, the ledger, adjustments, redemptions into vouchers, "
    "the liability report.",
    no_args_is_help=True,
)

ContactArg = typer.Argument(..., help="The contact's id (a merged id: its survivor).")
JsonOption = typer.Option(False, "--json", help="Print JSON instead of text.")


@contextmanager
def _services() -> Iterator[Any]:
    from lealta.bootstrap import build

    services = build()
    try:
        yield services
    finally:
        services.uow.engine.dispose()


def _program(session: Any) -> Any:
    from lealta.loyalty import ledger, service

    program = service.require(session).program
    ledger.points_of(program)
    return program


def _write(work: Callable[[Any, Any, Any], T]) -> T:
    """Run ``work(session, program, now)`` as a ledger write (again if a writer raced it)."""
    from lealta.loyalty import ledger

    with _services() as services:
        now = services.clock.now()
        return ledger.write(services.uow, lambda session: work(session, _program(session), now))


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@points_app.command("balance")
@friendly
def balance_command(contact_id: str = ContactArg, as_json: bool = JsonOption) -> None:
    """Print a contact's balance, its value and the points expiring soon."""
    from lealta.contacts.service import get_live
    from lealta.loyalty import ledger

    with _services() as services, services.uow.transaction() as session:
        program = _program(session)
        person = get_live(session, contact_id).id
        found = ledger.balance(session, person, program, today=services.clock.now().date())
    if as_json:
        _echo_json(dataclasses.asdict(found))
        return
    typer.echo(f"{found.balance:,} points ({found.value} {program.currency}) for {person}")
    for day, points in found.expiring:
        typer.echo(f"  {points:,} expire on {day:%Y-%m-%d}")


@points_app.command("history")
@friendly
def history_command(
    contact_id: str = ContactArg,
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="Entries to show."),
    before: int | None = typer.Option(
        None, "--before", min=1, help="Entries numbered below this (the next page)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Print a contact's ledger, newest first."""
    from lealta.contacts.service import get_live
    from lealta.loyalty import ledger

    with _services() as services, services.uow.transaction() as session:
        _program(session)
        person = get_live(session, contact_id).id
        rows = ledger.history(session, person, limit=limit, before=before)
        found: list[dict[str, Any]] = [
            {
                "seq": r.seq,
                "at": r.created_at.isoformat(),
                "kind": r.kind,
                "points": r.points,
                "balance": r.balance,
                "reason": r.reason,
                "order_id": r.order_id,
                "voucher_code": r.voucher_code,
                "expires_on": r.expires_on.isoformat() if r.expires_on else None,
                "unrecovered": r.unrecovered,
                "actor": r.actor,
            }
            for r in rows
        ]
    if as_json:
        _echo_json(found)
        return
    if not found:
        typer.echo("no entries")
    for r in found:
        typer.echo(
            f"{r['seq']:>5}  {r['at'][:16]}  {r['kind']:<7} {r['points']:>+8,} "
            f"= {r['balance']:>8,}  {r['reason']}"
        )
    if len(found) == limit and found[-1]["seq"] > 1:
        typer.echo(f"(older entries: --before {found[-1]['seq']})", err=True)


@points_app.command("adjust")
@friendly
def adjust_command(
    contact_id: str = ContactArg,
    points: int = typer.Option(
        ..., "--points", help="Points to add (--points 50) or take (--points -50)."
    ),
    reason: str = typer.Option(..., "--reason", help="Why: kept in the ledger."),
    key: str | None = typer.Option(
        None, "--key", help="Idempotency key: running again with it adjusts once."
    ),
    by: str | None = typer.Option(None, "--by", help="Who (default: the system user)."),
) -> None:
    """Add or take points by hand, with a reason (never below a balance of 0)."""
    from lealta.loyalty import ledger

    actor = f"cli:{by or getpass.getuser()}"
    entry = _write(
        lambda session, program, now: ledger.adjust(
            session,
            contact_id,
            program,
            points=points,
            reason=reason,
            key=key or f"adjust:{uuid.uuid4().hex}",
            now=now,
            actor=actor,
        )
    )
    typer.echo(f"{entry.points:+,} points: the balance is {entry.balance:,} (entry {entry.seq})")


@points_app.command("redeem")
@friendly
def redeem_command(
    contact_id: str = ContactArg,
    option: str = typer.Argument(..., help="The code of a redemption option of the programme."),
    key: str = typer.Option(
        ..., "--key", help="Idempotency key: running again with it pays the same voucher."
    ),
    by: str | None = typer.Option(None, "--by", help="Who (default: the system user)."),
) -> None:
    """Turn points into a voucher (its code is printed)."""
    from lealta.loyalty import ledger
    from lealta.vouchers.codes import format_code

    actor = f"cli:{by or getpass.getuser()}"
    done = _write(
        lambda session, program, now: ledger.redeem(
            session, contact_id, program, option=option, key=key, now=now, actor=actor
        )
    )
    typer.echo(
        f"voucher {format_code(done.voucher.code)} ({done.voucher.kind} {done.voucher.value}) "
        f"for {-done.entry.points:,} points: the balance is {done.entry.balance:,}"
    )


@points_app.command("liability")
@friendly
def liability_command(as_json: bool = JsonOption) -> None:
    """Print the points outstanding and their value (what the shop owes its customers)."""
    from lealta.loyalty import ledger

    with _services() as services, services.uow.transaction() as session:
        program = _program(session)
        report = ledger.liability(session, program, today=services.clock.now().date())
    if as_json:
        _echo_json(dataclasses.asdict(report))
        return
    typer.echo(
        f"{report.points:,} points outstanding, worth {report.value} {report.currency} "
        f"({report.point_value:g} each), held by {report.holders:,} contacts"
    )
    typer.echo(f"{report.expiring_30_days:,} points expire in the next 30 days")
    typer.echo(
        f"ever: {report.earned:,} earned, {report.redeemed:,} redeemed, {report.expired:,} "
        f"expired, {report.returned:,} taken back for returns ({report.not_recovered:,} not "
        f"recovered), {report.adjusted:+,} adjusted"
    )


@points_app.command("sweep")
@friendly
def sweep_command(as_json: bool = JsonOption) -> None:
    """Run the worker's points sweep now: orders, bonus events, returns, expiry, warnings.

    The worker runs it every five minutes.
    """
    from lealta.loyalty.points_sweeps import sweep

    with _services() as services:
        with services.uow.transaction() as session:
            _program(session)
        found = sweep(services)
    report = dataclasses.asdict(found) if found is not None else {}
    if as_json:
        _echo_json(report)
        return
    typer.echo(", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in report.items()))
