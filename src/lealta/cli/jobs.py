"""``lealta jobs``: background jobs (RFM recomputations asked for in the console or the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from lealta.cli.errors import friendly

if TYPE_CHECKING:
    from lealta.jobs.tables import Job

jobs_app = typer.Typer(
    help="Background jobs run by the worker (lealta worker, or the one lealta serve starts)."
)


def _line(job: Job) -> str:
    percent = f"{100 * float(job.progress or 0):.0f}%"
    outcome = job.error or job.step or ""
    asked = f"{job.created_at:%Y-%m-%d %H:%M}"
    return "\t".join((job.id, job.kind, job.status, percent, asked, outcome))


@jobs_app.command("list")
@friendly
def list_command(
    kind: str | None = typer.Option(None, help="Only jobs of this kind (rfm)."),
    limit: int = typer.Option(20, help="At most this many jobs (1-200)."),
) -> None:
    """List jobs, latest first: id, kind, status, progress, when asked, step or error."""
    from lealta.bootstrap import build
    from lealta.jobs.service import list_

    services = build()
    with services.uow.transaction() as session:
        jobs = list_(session, kind=kind, limit=limit)
        if not jobs:
            typer.echo("no jobs yet", err=True)
        for job in jobs:
            typer.echo(_line(job))


@jobs_app.command("show")
@friendly
def show_command(
    job_id: str = typer.Argument(..., help="The job's id (from lealta jobs list)."),
) -> None:
    """Show one job: status, progress, step, who asked, times, and its result or error."""
    import json

    from lealta.bootstrap import build
    from lealta.jobs.service import get
    from lealta.rest.jobs import job_out

    services = build()
    with services.uow.transaction() as session:
        shown = job_out(get(session, job_id))
    shown["progress"] = f"{100 * shown['progress']:.0f}%"
    for name, value in shown.items():
        if value is None or value in ({}, ""):
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value, indent=2, default=str)
        elif hasattr(value, "strftime"):
            value = f"{value:%Y-%m-%d %H:%M:%S} UTC"
        typer.echo(f"{name}: {value}")
