"""``lealta automations``: import, export, list, enable, pause, simulate and measure workflows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lealta.automations.service import Saved
    from lealta.automations.tables import Run
    from lealta.bootstrap import Services

automations_app = typer.Typer(help="Workflows: triggers, waits, branches and actions, as data.")


def _services() -> Services:
    from lealta.bootstrap import build

    return build()


@automations_app.command("import")
@friendly
def import_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A workflow (YAML/JSON)."),
    enable: bool = typer.Option(False, "--enable", help="Enable it at once."),
) -> None:
    """Store a workflow; an existing id gets a new version (runs under way keep theirs).

    --enable refuses (after storing it) a workflow whose message templates are not stored."""
    from lealta.automations import service
    from lealta.storage.retry import in_transaction

    services = _services()
    now = services.clock.now()
    text = path.read_text(encoding="utf-8")

    def work(session: Session) -> tuple[Saved, list[str]]:
        saved = service.save(session, text, now=now)
        rules = service.definition(session, saved.workflow_id)
        return saved, service.missing_templates(session, rules)

    saved, missing = in_transaction(services.uow, work)
    what = "created" if saved.created else ("new version" if saved.changed else "unchanged")
    typer.echo(f"{saved.workflow_id}: version {saved.version} ({what})")
    if missing:
        typer.echo(f"message templates not stored yet: {', '.join(missing)}")
    if enable:
        _set(saved.workflow_id, "active")


@automations_app.command("export")
@friendly
def export_command(
    workflow: str = typer.Argument(..., help="Workflow id."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
    version: int | None = typer.Option(None, help="A version (default: the current one)."),
) -> None:
    """Write a workflow's definition as YAML."""
    import yaml

    from lealta.automations import service
    from lealta.automations.definition import dump

    services = _services()
    with services.uow.transaction() as session:
        text = yaml.safe_dump(dump(service.definition(session, workflow, version)), sort_keys=False)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@automations_app.command("list")
@friendly
def list_command() -> None:
    """Workflows with status, version and runs."""
    from lealta.automations import service
    from lealta.automations.stats import workflow_stats

    services = _services()
    with services.uow.transaction() as session:
        for workflow in service.list_workflows(session):
            stats = workflow_stats(session, workflow.id)
            typer.echo(
                f"{workflow.id}\t{workflow.status}\tv{workflow.current_version}\t"
                f"entered {stats['entered']}\tactive {stats['active']}\tgoal {stats['goal']}\t"
                f"{workflow.name}"
            )


def _set(workflow: str, status: str) -> None:
    from lealta.automations import service
    from lealta.storage.retry import in_transaction

    services = _services()
    now = services.clock.now()
    in_transaction(services.uow, lambda s: service.set_status(s, workflow, status, now=now))
    typer.echo(f"{workflow}: {status}")


@automations_app.command("enable")
@friendly
def enable_command(workflow: str = typer.Argument(..., help="Workflow id.")) -> None:
    """Start enrolling people (and advancing runs)."""
    _set(workflow, "active")


@automations_app.command("pause")
@friendly
def pause_command(workflow: str = typer.Argument(..., help="Workflow id.")) -> None:
    """Stop enrolling; runs wait where they are until enabled again."""
    _set(workflow, "paused")


@automations_app.command("stats")
@friendly
def stats_command(workflow: str = typer.Argument(..., help="Workflow id.")) -> None:
    """Entered, active, waiting, exited, goal reached, conversion; messages sent, suppressed
    (by reason), failed, held for quiet hours and waiting; and per step (JSON)."""
    from lealta.automations.stats import workflow_stats

    services = _services()
    with services.uow.transaction() as session:
        typer.echo(json.dumps(workflow_stats(session, workflow), indent=2))


@automations_app.command("runs")
@friendly
def runs_command(
    workflow: str = typer.Argument(..., help="Workflow id."),
    contact: str | None = typer.Option(None, "--contact", help="Only this contact's runs."),
    status: str | None = typer.Option(
        None, "--status", help="Only runs in this state: active, waiting, done, goal, exited."
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=500, help="At most this many runs."),
    cursor: str | None = typer.Option(None, "--cursor", help="Where the last page stopped."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (as GET .../runs does)."),
) -> None:
    """A workflow's runs, newest first: contact, status, current step, wake time, exit
    reason, entered and updated times (one per line, tab-separated)."""
    from lealta.automations import runs, service

    services = _services()
    try:
        with services.uow.transaction() as session:
            service.get(session, workflow)
            found, following = runs.list_(
                session, workflow, contact_id=contact, status=status, limit=limit, cursor=cursor
            )
            rows = [_run_row(run) for run in found]
    finally:
        services.uow.engine.dispose()
    if as_json:
        typer.echo(json.dumps({"runs": rows, "next": following}, indent=2))
        return
    for row in rows:
        typer.echo("\t".join(str(row[k] or "-") for k in row if k != "id"))
    if following:
        typer.echo(f"more: --cursor {following}", err=True)


def _run_row(run: Run) -> dict[str, str | None]:
    return {
        "id": run.id,
        "contact_id": run.contact_id,
        "status": run.status,
        "step_id": run.step_id,
        "wake_at": _stamp(run.wake_at),
        "exit_reason": run.exit_reason,
        "entered_at": _stamp(run.entered_at),
        "updated_at": _stamp(run.updated_at),
    }


def _stamp(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return utc.isoformat().replace("+00:00", "Z")


@automations_app.command("schema")
@friendly
def schema_command() -> None:
    """Print the JSON Schema of workflow definitions."""
    from lealta.automations.definition import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))


@automations_app.command("simulate")
@friendly
def simulate_command(
    workflow: str = typer.Argument(..., help="A workflow id, or a YAML/JSON file."),
    contact: str | None = typer.Option(
        None, "--contact", help="A contact id: simulate with their profile and history."
    ),
    days: float = typer.Option(30.0, "--days", help="How many days to simulate."),
    segment: str | None = typer.Option(
        None,
        "--segment",
        help="Dry run for everyone in this RFM segment: counts per step and branch.",
    ),
    tag: str | None = typer.Option(None, "--tag", help="Dry run for everyone with this tag."),
    event: list[str] = typer.Option(
        [],
        "--event",
        help="An event to happen during the simulation, as NAME@OFFSET, e.g. "
        "'Order Completed@2d' or 'Email Opened@36h'. Repeatable.",
    ),
) -> None:
    """Print what a run would do, and when, with time passing (nothing is written or sent)."""
    from lealta.automations import engine, service
    from lealta.automations.definition import load_definition
    from lealta.automations.durations import parse_duration
    from lealta.automations.runner import contact_views
    from lealta.conditions import ContactView, EventView
    from lealta.errors import InvalidInput

    services = _services()
    now = services.clock.now()
    path = Path(workflow)
    with services.uow.transaction() as session:
        rules = (
            load_definition(path.read_text(encoding="utf-8"))
            if path.suffix in (".yaml", ".yml", ".json") and path.exists()
            else service.definition(session, workflow)
        )
        view = contact_views(session, [contact], now=now).get(contact) if contact else None
    if contact and view is None:
        raise InvalidInput(f"no live contact {contact!r}", field="contact")
    if segment or tag:
        from lealta.automations.dryrun import audience, dry_run

        with services.uow.transaction() as session:
            ids = audience(session, segment=segment, tag=tag)
            typer.echo(json.dumps(dry_run(session, rules, ids, now=now, days=days), indent=2))
        return
    future = []
    for text in event:
        name, _, offset = text.rpartition("@")
        if not name:
            raise InvalidInput(f"--event {text!r}: write NAME@OFFSET", field="event")
        future.append(EventView(name, "track", now + parse_duration(offset), {}))
    timeline = engine.simulate(
        rules, view or ContactView(id="simulated"), start=now, days=days, events=future
    )
    for moment, item in timeline:
        when = f"{moment:%Y-%m-%d %H:%M}  +{(moment - now).total_seconds() / 86400:5.1f} d"
        if isinstance(item, engine.StepLog):
            detail = ", ".join(f"{k}={v}" for k, v in item.detail.items())
            typer.echo(f"{when}  {item.step_id:<20} {item.outcome} {detail}".rstrip())
        else:
            typer.echo(f"{when}  {item.step_id:<20} → {type(item).__name__}: {_describe(item)}")


def _describe(command: object) -> str:
    fields = getattr(command, "__dataclass_fields__", {})
    return ", ".join(
        f"{name}={getattr(command, name)}" for name in fields if name not in ("key", "step_id")
    )


@automations_app.command("templates")
@friendly
def templates_command(
    show: str | None = typer.Option(None, "--show", help="Print this template's YAML."),
    install: str | None = typer.Option(
        None,
        "--install",
        help="Import this template as a workflow (a draft until enabled), with the message "
        "templates it uses that are not stored yet.",
    ),
) -> None:
    """The ready-made workflows Lealta ships: list, show or install one."""
    from lealta.automations import catalog

    if show:
        typer.echo(catalog.template_text(show), nl=False)
        return
    if install:
        from lealta.automations import service
        from lealta.storage.retry import in_transaction

        services = _services()
        now = services.clock.now()
        done = in_transaction(services.uow, lambda s: service.install(s, install, now=now))
        saved = done.saved
        what = "created" if saved.created else ("new version" if saved.changed else "unchanged")
        typer.echo(f"{saved.workflow_id}: version {saved.version} ({what})")
        if done.templates:
            typer.echo(f"message templates installed: {', '.join(done.templates)}")
        typer.echo(f"enable it when ready: lealta automations enable {saved.workflow_id}")
        return
    for info in catalog.templates():
        first = info.description.strip().splitlines()[0] if info.description.strip() else ""
        typer.echo(f"{info.id:<24} {info.name}: {first}")
