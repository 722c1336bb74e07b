"""``lealta audiences``: saved audiences from the command line (list, show, import, export,
count, members, explain, refresh)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
import yaml

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from lealta.bootstrap import Services

audiences_app = typer.Typer(
    help="Saved audiences: named conditions whose members are kept up to date.",
    no_args_is_help=True,
)
AudienceName = typer.Argument(..., help="The audience's name (or id).", show_default=False)


@contextmanager
def _services() -> Iterator[Services]:
    """The services of the process's settings; their connections closed at the end."""
    from lealta.bootstrap import build

    services = build()
    try:
        yield services
    finally:
        services.uow.engine.dispose()
        if services.inbox is not services.uow:
            services.inbox.engine.dispose()


@audiences_app.command("list")
@friendly
def list_command(
    archived: bool = typer.Option(False, "--archived", help="Include archived audiences."),
) -> None:
    """List audiences: id, name, size after the latest refresh, when refreshed, version."""
    from lealta.audiences import service

    with _services() as services, services.uow.transaction() as session:
        found = service.list_(session, archived=archived)
        if not found:
            typer.echo("no audiences yet (lealta audiences import FILE)", err=True)
        for audience in found:
            size = "-" if audience.size is None else f"{audience.size:,}"
            when = f"{audience.refreshed_at:%Y-%m-%d %H:%M}" if audience.refreshed_at else "never"
            flag = "\tarchived" if audience.archived else ""
            typer.echo(f"{audience.id}\t{audience.name}\t{size}\t{when}\tv{audience.version}{flag}")


@audiences_app.command("show")
@friendly
def show_command(name: str = AudienceName) -> None:
    """Print an audience's current definition (YAML) with its size and refresh time."""
    from lealta.audiences import service

    with _services() as services:
        with services.uow.transaction() as session:
            audience = service.get(session, name)
            document = service.definition(session, audience)
            size = "never refreshed" if audience.size is None else f"{audience.size:,} members"
            typer.echo(f"# audience {audience.id}, version {audience.version}: {size}")
        typer.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), nl=False)


@audiences_app.command("import")
@friendly
def import_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A definition (YAML/JSON)."),
    refresh_now: bool = typer.Option(False, "--refresh", help="Compute its members at once."),
) -> None:
    """Save an audience; an existing name gets a new version when anything changed.

    Problems are named by their place (condition.conditions.1.gte)."""
    from lealta.audiences import service
    from lealta.storage.retry import in_transaction

    with _services() as services:
        text = path.read_text(encoding="utf-8")
        now = services.clock.now()
        saved = in_transaction(services.uow, lambda s: service.save(s, text, now=now))
        what = "created" if saved.created else ("new version" if saved.changed else "unchanged")
        typer.echo(f"{saved.audience.name}: version {saved.audience.version} ({what})")
        if refresh_now:
            _refresh(services, saved.audience.name)


@audiences_app.command("export")
@friendly
def export_command(
    name: str = AudienceName,
    output: Path | None = typer.Option(None, "-o", "--output", help="Write here (.yaml, .json)."),
) -> None:
    """Write an audience's definition (YAML, or JSON for a .json file), for import."""
    from lealta.audiences import service

    with _services() as services:
        with services.uow.transaction() as session:
            document = service.definition(session, service.get(session, name))
        if output is not None and output.suffix.lower() == ".json":
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        else:
            text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        if output is None:
            typer.echo(text, nl=False)
        else:
            output.write_text(text, encoding="utf-8")
            typer.echo(f"wrote {output}", err=True)


@audiences_app.command("count")
@friendly
def count_command(
    source: str = typer.Argument(
        ...,
        help="A saved audience's name, a definition or condition file (YAML/JSON), or a "
        "condition inline ('{kind: tag, tag: vip}').",
        show_default=False,
    ),
    estimate_only: bool = typer.Option(
        False, "--estimate", help="Only the fast estimate (a random slice of the contacts)."
    ),
    funnel: bool = typer.Option(
        False, "--funnel", help="Who is left after each condition of an all."
    ),
) -> None:
    """Count who a condition holds of now: the estimate, then the exact count."""
    from lealta.audiences import counting

    with _services() as services:
        now = services.clock.now()
        with services.uow.transaction() as session:
            condition = _condition(session, source)
            guess = counting.estimate(session, condition, now=now)
            typer.echo(_estimate_words(guess))
            if not estimate_only:
                typer.echo(f"exact: {counting.count(session, condition, now=now):,}")
            if funnel:
                for step in counting.funnel(session, condition, now=now):
                    typer.echo(f"after condition {step.index + 1} ({step.label}): {step.left:,}")


def _estimate_words(guess: Any) -> str:
    if guess.exact:
        return f"estimate: {guess.count:,} (every one of {guess.contacts:,} contacts looked at)"
    return (
        f"estimate: {guess.count:,} ± {guess.margin:,} "
        f"({guess.sampled:,} of {guess.contacts:,} contacts sampled)"
    )


def _condition(session: Any, source: str) -> Any:
    """The condition of a saved audience, a file, or inline text."""
    from lealta.audiences import service
    from lealta.audiences.definition import load_condition, load_definition
    from lealta.errors import NotFound
    from lealta.yaml_input import load_yaml

    path = Path(source)
    if path.is_file():
        data = load_yaml(path.read_text(encoding="utf-8"), field="condition")
        if isinstance(data, dict) and "condition" in data and "kind" not in data:
            return load_definition(data).condition
        return load_condition(data)
    if source.lstrip().startswith("{"):
        return load_condition(source)
    try:
        audience = service.get(session, source)
    except NotFound:
        raise NotFound(f"no audience {source!r} and no file of that name") from None
    return load_condition(audience.condition)


@audiences_app.command("members")
@friendly
def members_command(
    name: str = AudienceName,
    limit: int = typer.Option(50, help="At most this many (1-500)."),
    after: str | None = typer.Option(None, help="The last contact id of the previous page."),
) -> None:
    """List members (contact id, since when), by contact id: a random sample of them."""
    from lealta.audiences import members, service

    with _services() as services:
        with services.uow.transaction() as session:
            found = members.page(session, service.get(session, name), limit=limit, after=after)
        for member in found:
            typer.echo(f"{member.contact_id}\t{member.since:%Y-%m-%d %H:%M}")
        if len(found) == limit:
            typer.echo(f"next page: --after {found[-1].contact_id}", err=True)


@audiences_app.command("explain")
@friendly
def explain_command(
    name: str = AudienceName,
    contact_id: str = typer.Argument(..., help="The contact's id.", show_default=False),
) -> None:
    """Say why a person is in or out, condition by condition, as of now."""
    from lealta.audiences.explaining import explain, lines

    with _services() as services:
        with services.uow.transaction() as session:
            found = explain(session, name, contact_id, now=services.clock.now())
        for line in lines(found):
            typer.echo(line)


@audiences_app.command("refresh")
@friendly
def refresh_command(
    name: str | None = typer.Argument(None, help="One audience (default: every one)."),
    background: bool = typer.Option(
        False, "--background", help="Queue a job for the worker instead of waiting."
    ),
) -> None:
    """Recompute members now: who entered and exited get an event each (which start the
    workflows they trigger) and the day's size is stored."""
    with _services() as services:
        if background:
            from lealta.jobs import service as jobs

            job, new = jobs.enqueue(
                services.uow,
                kind="audience_refresh",
                params={"audience": name} if name else {},
                requested_by="lealta audiences refresh",
                now=services.clock.now(),
            )
            typer.echo(f"{'queued' if new else 'already under way'}: job {job.id}")
            return
        _refresh(services, name)


def _refresh(services: Services, name: str | None) -> None:
    from lealta.audiences import service
    from lealta.audiences.schedule import refresh_many

    names = None
    if name is not None:
        with services.uow.transaction() as session:
            names = [service.get(session, name).name]
    for done in refresh_many(services, names=names):
        typer.echo(
            f"{done.name}: {done.size:,} members, {done.entered:,} entered, "
            f"{done.exited:,} exited ({done.seconds:.2f} s)"
        )


@audiences_app.command("schema")
@friendly
def schema_command() -> None:
    """Print the JSON Schema of audience definitions."""
    from lealta.audiences.definition import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))
