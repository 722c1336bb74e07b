"""``lealta ads``: hashed customer lists for Meta Custom Audiences and Google Customer Match."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from lealta.cli.errors import friendly

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
    from lealta.bootstrap import build
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
    services = build()
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
