"""Root of the ``lealta`` command: sub-commands are registered here, imported lazily."""

from __future__ import annotations

import typer

from lealta import __version__

app = typer.Typer(
    name="lealta",
    help="Lealta: customer segmentation (RFM, RFMP, K-Means) and marketing automation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lealta {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Lealta's command line."""


def _register() -> None:
    from lealta.cli.ads import ads_app
    from lealta.cli.affinity import affinity_command
    from lealta.cli.audiences import audiences_app
    from lealta.cli.automations import automations_app
    from lealta.cli.cluster import cluster_command
    from lealta.cli.clv import clv_command
    from lealta.cli.contacts import contacts_app
    from lealta.cli.db import db_app
    from lealta.cli.demo import demo_data
    from lealta.cli.imports import import_app
    from lealta.cli.jobs import jobs_app
    from lealta.cli.keys import keys_app
    from lealta.cli.loyalty import loyalty_app
    from lealta.cli.push import push_app
    from lealta.cli.reports import reports_app
    from lealta.cli.rfm import rfm_command
    from lealta.cli.segments import segments_app
    from lealta.cli.serve import serve_command, worker_command
    from lealta.cli.templates import templates_app
    from lealta.cli.users import users_app

    app.command("rfm")(rfm_command)
    app.command("cluster")(cluster_command)
    app.command("clv")(clv_command)
    app.command("affinity")(affinity_command)
    app.command("demo-data")(demo_data)
    app.command("serve")(serve_command)
    app.command("worker")(worker_command)
    app.add_typer(segments_app, name="segments")
    app.add_typer(db_app, name="db")
    app.add_typer(keys_app, name="keys")
    app.add_typer(users_app, name="users")
    app.add_typer(automations_app, name="automations")
    app.add_typer(contacts_app, name="contacts")
    app.add_typer(templates_app, name="templates")
    app.add_typer(import_app, name="import")
    app.add_typer(push_app, name="push")
    app.add_typer(reports_app, name="reports")
    app.add_typer(jobs_app, name="jobs")
    app.add_typer(loyalty_app, name="loyalty")
    app.add_typer(ads_app, name="ads")
    app.add_typer(audiences_app, name="audiences")


_register()
