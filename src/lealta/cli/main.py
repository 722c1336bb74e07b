"""Root of the ``lealta`` command: sub-commands are listed here and imported when they run.

Each entry names the module and attribute of a sub-command and the one-line help that
``lealta --help`` shows for it (a test checks it against the sub-command's own help).
"""

from __future__ import annotations

import typer

from lealta import __version__
from lealta.cli.lazy import LazyCommand, LazyGroup

COMMANDS: dict[str, LazyCommand] = {
    "rfm": LazyCommand(
        "lealta.cli.rfm",
        "rfm_command",
        "Score customers by Recency, Frequency, Monetary (and Payment) and name their segments.",
    ),
    "cluster": LazyCommand(
        "lealta.cli.cluster",
        "cluster_command",
        "Group customers with K-Means on log-scaled, standardised R, F, M (and P).",
    ),
    "clv": LazyCommand(
        "lealta.cli.clv",
        "clv_command",
        "Predict who is still a customer, what they will buy and what they are worth.",
    ),
    "affinity": LazyCommand(
        "lealta.cli.affinity",
        "affinity_command",
        "Find the categories or products bought together and in sequence, and what each\n"
        "customer is likely to buy next.",
    ),
    "demo-data": LazyCommand(
        "lealta.cli.demo",
        "demo_data",
        "Write a realistic synthetic shop's order export, for demos, tests and benchmarks.",
    ),
    "serve": LazyCommand(
        "lealta.cli.serve",
        "serve_command",
        "Start the API (OpenAPI docs at /docs) with the tracking processor inside.",
    ),
    "worker": LazyCommand(
        "lealta.cli.serve",
        "worker_command",
        "Apply tracked messages to profiles, advance workflow runs, deliver the outbox and run\n"
        "the scheduled sweeps, until stopped.",
    ),
    "segments": LazyCommand(
        "lealta.cli.segments",
        "segments_app",
        "Segment maps and segment lists for mailing tools.",
    ),
    "db": LazyCommand(
        "lealta.cli.db",
        "db_app",
        "The state store (SQLite by default, PostgreSQL in production).",
    ),
    "keys": LazyCommand(
        "lealta.cli.keys",
        "keys_app",
        "API keys: write-only tracking keys and admin keys.",
    ),
    "users": LazyCommand(
        "lealta.cli.users",
        "users_app",
        "Console users: admins manage users, keys and erasure; marketers edit contacts, "
        "segments and workflows; viewers read.",
    ),
    "automations": LazyCommand(
        "lealta.cli.automations",
        "automations_app",
        "Workflows: triggers, waits, branches and actions, as data.",
    ),
    "contacts": LazyCommand(
        "lealta.cli.contacts",
        "contacts_app",
        "Contacts: export everything held on a person (GDPR access), or erase them.",
    ),
    "templates": LazyCommand(
        "lealta.cli.templates",
        "templates_app",
        "Message templates (e-mail, SMS, push, on-site, webhook): Jinja2 in a sandbox, "
        "per-language variants, MJML.",
    ),
    "import": LazyCommand(
        "lealta.cli.imports",
        "import_app",
        "Import contacts, orders or events from CSV (.csv, .csv.gz), Parquet or JSON lines. "
        "Exit code 0: all rows imported; 3: some rows rejected (listed); 2: file not importable.",
    ),
    "push": LazyCommand(
        "lealta.cli.push",
        "push_app",
        "Push notifications: VAPID keys for browser push.",
    ),
    "reports": LazyCommand(
        "lealta.cli.reports",
        "reports_app",
        "Delivery reports: per template, step, channel or workflow; conversions; bounces.",
    ),
    "jobs": LazyCommand(
        "lealta.cli.jobs",
        "jobs_app",
        "Background jobs run by the worker (lealta worker, or the one lealta serve starts).",
    ),
    "loyalty": LazyCommand(
        "lealta.cli.loyalty",
        "loyalty_app",
        "Loyalty programme: status tiers and benefits driven by RFM.",
    ),
    "ads": LazyCommand(
        "lealta.cli.ads",
        "ads_app",
        "Advertising audiences: the people of an audience, segment, cluster, tag, list or "
        "workflow step who granted 'ads' consent, as hashed upload files for Meta and Google.",
    ),
    "audiences": LazyCommand(
        "lealta.cli.audiences",
        "audiences_app",
        "Saved audiences: named conditions whose members are kept up to date.",
    ),
}


class _Commands(LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="lealta",
    help="Lealta: customer segmentation (RFM, RFMP, K-Means) and marketing automation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_Commands,
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
