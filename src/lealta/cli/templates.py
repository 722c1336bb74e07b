"""``lealta templates``: list, import, export, validate, preview and install message templates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lealta.bootstrap import Services
    from lealta.messages.problems import Problem
    from lealta.messages.service import Saved

templates_app = typer.Typer(
    help="Message templates (e-mail, SMS, push, on-site, webhook): Jinja2 in a sandbox, "
    "per-language variants, MJML.",
    no_args_is_help=True,
)


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


def _read(path: Path) -> list[dict[str, Any]]:
    from lealta.messages.catalog import read_documents

    return read_documents(path.read_text(encoding="utf-8"))


def _print_problems(problems: list[Problem], *, where: str = "") -> None:
    for problem in problems:
        colour = "red" if problem.severity == "error" else "yellow"
        typer.secho(f"{where}{problem.severity}: {problem}", err=True, fg=colour)


def _save_all(documents: list[dict[str, Any]]) -> None:
    from lealta.messages import service
    from lealta.storage.retry import in_transaction

    def work(session: Session) -> list[Saved | str]:
        return [
            service.save(
                session, doc["id"], doc["channel"], doc["body"], doc["description"], now=now
            )
            for doc in documents
        ]

    with _services() as services:
        now = services.clock.now()
        results = in_transaction(services.uow, work)
    _report(results)


def _report(results: list[Saved | str]) -> None:
    for result in results:
        if isinstance(result, str):
            typer.echo(f"{result}: already there, left as it is (--replace to overwrite)")
            continue
        row = result.template
        what = "created" if result.created else ("new version" if result.changed else "unchanged")
        typer.echo(f"{row.id}: version {row.version} ({what})")
        _print_problems(result.warnings, where=f"{row.id}: ")


@templates_app.command("list")
@friendly
def list_command(
    channel: str | None = typer.Option(None, "--channel", help="Only this channel."),
) -> None:
    """Stored templates: id, channel, version, description."""
    from lealta.messages import service

    with _services() as services, services.uow.transaction() as session:
        for row in service.list_(session, channel=channel):
            typer.echo(f"{row.id}\t{row.channel}\tv{row.version}\t{row.description}")


@templates_app.command("import")
@friendly
def import_command(
    path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A YAML or JSON file: one template or a list."
    ),
) -> None:
    """Store the templates in a file (validated; an existing id gets a new version)."""
    _save_all(_read(path))


@templates_app.command("export")
@friendly
def export_command(
    template: str = typer.Argument(..., help="Template id."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File (default: stdout)."),
) -> None:
    """Write a stored template as YAML, ready to edit and import again."""
    import yaml

    from lealta.messages import service

    with _services() as services, services.uow.transaction() as session:
        row = service.get(session, template)
        document = {
            "id": row.id,
            "channel": row.channel,
            "description": row.description,
            "body": dict(row.body),
        }
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@templates_app.command("validate")
@friendly
def validate_command(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A YAML or JSON file."),
) -> None:
    """Check the templates in a file without storing them (exit code 2 on errors)."""
    from lealta.messages.validate import check

    failed = False
    for doc in _read(path):
        problems = check(doc["channel"], doc["body"])
        _print_problems(problems, where=f"{doc['id']}: ")
        errors = sum(p.severity == "error" for p in problems)
        failed = failed or errors > 0
        status = f"{errors} error(s)" if errors else "ok"
        warnings = len(problems) - errors
        typer.echo(f"{doc['id']}: {status}" + (f", {warnings} warning(s)" if warnings else ""))
    if failed:
        raise typer.Exit(2)


@templates_app.command("preview")
@friendly
def preview_command(
    template: str = typer.Argument(..., help="A stored template id, or a YAML/JSON file."),
    contact: str | None = typer.Option(
        None, "--contact", help="Render with this contact's data (default: nobody)."
    ),
    payload: str | None = typer.Option(
        None, "--payload", help="What a workflow step would pass, as JSON: '{\"cart\": [...]}'."
    ),
    language: str | None = typer.Option(None, "--language", help="Force a language variant."),
    strict: bool = typer.Option(False, "--strict", help="Fail on missing values."),
    part: str | None = typer.Option(None, "--part", help="Print only this part (e.g. html)."),
) -> None:
    """Render a template as it would be sent to a contact; prints the parts as JSON."""
    from lealta.errors import InvalidInput
    from lealta.messages import service

    try:
        extra = json.loads(payload) if payload else {}
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--payload is not JSON: {exc}", field="payload") from None
    path = Path(template)
    with _services() as services, services.uow.transaction() as session:
        if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
            doc = _read(path)[0]
            template_id, channel, body = doc["id"], doc["channel"], doc["body"]
        else:
            row = service.get(session, template)
            template_id, channel, body = row.id, row.channel, row.body
        parts = service.render_body(
            session,
            services.settings,
            channel=channel,
            body=body,
            template_id=template_id,
            contact_id=contact,
            payload=extra,
            now=services.clock.now(),
            strict=strict,
            language=language,
        )
    if part is not None:
        if part not in parts:
            raise InvalidInput(f"no part {part!r}; there is {', '.join(parts)}", field="part")
        value = parts[part]
        typer.echo(value if isinstance(value, str) else json.dumps(value, indent=2), nl=False)
        return
    typer.echo(json.dumps(parts, indent=2, ensure_ascii=False, default=str))


@templates_app.command("install")
@friendly
def install_command(
    names: list[str] = typer.Argument(
        None, help="Shipped templates to install (default: all of them)."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Overwrite templates that already exist."
    ),
    show: str | None = typer.Option(None, "--show", help="Print a shipped template's YAML."),
) -> None:
    """Store the ready-made templates of the shipped workflows (every one by default), with
    English and Italian copy. Existing templates are kept unless --replace."""
    from lealta.messages import catalog, service
    from lealta.storage.retry import in_transaction

    if show:
        typer.echo(catalog.shipped_text(show), nl=False)
        return
    with _services() as services:
        now = services.clock.now()
        results = in_transaction(
            services.uow,
            lambda session: service.install(session, names or None, replace=replace, now=now),
        )
    _report(results)


@templates_app.command("schema")
@friendly
def schema_command() -> None:
    """Print the JSON Schema of template files."""
    from lealta.messages.model import json_schema

    typer.echo(json.dumps(json_schema(), indent=2))
