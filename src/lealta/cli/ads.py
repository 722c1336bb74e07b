"""``lealta ads``: hashed customer lists for Meta Custom Audiences and Google Customer Match."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from lealta.bootstrap import Services

ads_app = typer.Typer(
    help=(
        "Advertising audiences: the people of an audience, segment, cluster, tag, list or "
        "workflow step "
        "who granted 'ads' consent, as hashed upload files for Meta and Google."
    ),
    no_args_is_help=True,
)


@ads_app.command("export")
@friendly
def export_command(
    format_: str = typer.Option(
        ...,
        "--format",
        help="meta (Custom Audiences customer file) or google (Customer Match file).",
    ),
    output: Path = typer.Option(..., "--output", "-o", help="The CSV file to write."),
    audience: str | None = typer.Option(
        None, "--audience", help="A saved audience's members (its name or id)."
    ),
    segment: str | None = typer.Option(None, "--segment", help="An RFM segment ('At Risk')."),
    cluster: int | None = typer.Option(None, "--cluster", help="A K-Means cluster's number."),
    tag: str | None = typer.Option(None, "--tag", help="The contacts carrying this tag."),
    list_: str | None = typer.Option(
        None, "--list", help="The subscribed members of this list (its slug)."
    ),
    workflow: str | None = typer.Option(
        None, "--workflow", help="With --step: everyone waiting at that step of this workflow."
    ),
    step: str | None = typer.Option(None, "--step", help="The step's id (with --workflow)."),
    country_default: str | None = typer.Option(
        None,
        "--country-default",
        help=(
            "ISO country code (IT, ES …) for phone numbers written without a country code "
            "and for people whose profile has no country. Default: LEALTA_DEFAULT_PHONE_REGION."
        ),
    ),
) -> None:
    """Write the hashed upload file of one source's people for an ad platform.

    Only contacts whose consent in force for the 'ads' channel is granted are written; the
    counts of who was exported and who was left out (erased, no ads consent, no e-mail or
    phone, invalid phone) are printed. E-mails, phones and names are normalised the way the
    platform documents and SHA-256-hashed; the file is written whole or not at all.
    """
    from lealta.retargeting.service import export
    from lealta.retargeting.sources import describe, source_from

    source = source_from(
        audience=audience,
        segment=segment,
        cluster=cluster,
        tag=tag,
        list_=list_,
        workflow=workflow,
        step=step,
    )
    services = build_services()
    partial = output.with_name(output.name + ".part")
    try:
        with services.uow.transaction() as session, partial.open("w", encoding="utf-8") as out:
            counts = export(
                session,
                source,
                out,
                format_=format_,
                country_default=country_default or services.settings.default_phone_region,
            )
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
        services.uow.engine.dispose()
    typer.echo(
        f"{describe(source)}: {counts.exported} exported to {output} ({format_}); left out: "
        f"{counts.no_ads_consent} without ads consent, {counts.no_email_or_phone} without "
        f"e-mail or phone, {counts.invalid_phone} with an invalid phone only, "
        f"{counts.erased} erased"
    )


sync_app = typer.Typer(
    help=(
        "Keep an audience current at an ad platform connector: each addition and removal is "
        "a signed webhook (X-Lealta-Signature), sent by the worker."
    ),
    no_args_is_help=True,
)
ads_app.add_typer(sync_app, name="sync")


@sync_app.command("add")
@friendly
def sync_add_command(
    audience: str = typer.Option(..., "--audience", help="The audience's name or id."),
    url: str = typer.Option(..., "--url", help="The connector's http(s) URL (200 characters)."),
    format_: str = typer.Option(
        "meta", "--format", help="The row format in the webhooks: meta or google."
    ),
) -> None:
    """Sync an audience from now on (upload its current members once with 'ads export')."""
    from lealta.retargeting import sync
    from lealta.storage.retry import in_transaction

    services = build_services()
    try:
        now = services.clock.now()
        found = in_transaction(
            services.uow,
            lambda s: sync.create(s, audience=audience, url=url, format_=format_, now=now).id,
        )
    finally:
        services.uow.engine.dispose()
    typer.echo(f"ad sync {found}: audience {audience} to {url} ({format_})")


@sync_app.command("list")
@friendly
def sync_list_command() -> None:
    """Every ad sync: id, audience, format, URL."""
    from lealta.retargeting import sync

    services = build_services()
    try:
        with services.uow.transaction() as session:
            rows = [(s.id, name, s.format, s.url) for s, name in sync.list_(session)]
    finally:
        services.uow.engine.dispose()
    for number, name, format_, url in rows:
        typer.echo(f"{number}\t{name}\t{format_}\t{url}")
    if not rows:
        typer.echo("no ad syncs", err=True)


@sync_app.command("remove")
@friendly
def sync_remove_command(
    sync_id: int = typer.Argument(..., help="The sync's id (see 'lealta ads sync list')."),
) -> None:
    """Stop an ad sync (webhooks already queued still go)."""
    from lealta.retargeting import sync
    from lealta.storage.retry import in_transaction

    services = build_services()
    try:
        in_transaction(services.uow, lambda s: sync.delete(s, sync_id))
    finally:
        services.uow.engine.dispose()
    typer.echo(f"ad sync {sync_id} removed")


@sync_app.command("push")
@friendly
def sync_push_command() -> None:
    """Queue the webhooks of every sync's changes now (the worker does it every 30 s)."""
    from lealta.retargeting import sync
    from lealta.storage.retry import in_transaction

    services = build_services()
    try:
        now, region = services.clock.now(), services.settings.default_phone_region
        queued = in_transaction(services.uow, lambda s: sync.push(s, now=now, region=region))
    finally:
        services.uow.engine.dispose()
    typer.echo(f"{queued} webhook(s) queued")


def build_services() -> Services:
    """The services of the process's settings (the caller disposes of the engine)."""
    from lealta.bootstrap import build

    return build()
