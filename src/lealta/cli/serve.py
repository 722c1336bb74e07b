"""``lealta serve`` and ``lealta worker``: the API server and the tracking processor."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from typing import Any

import typer

from lealta.cli.errors import friendly
from lealta.cli.stopping import exit_if_still_running, exit_if_threads_left, parent_gone

# Third-party libraries that log routine INFO lines when imported or used: the CLV job imports
# pymc and arviz ("arviz.preview: arviz_base not installed" at every worker start). They are
# kept at WARNING (or the level asked, when higher), so Lealta's own INFO lines stand out.
QUIET_LOGGERS = ("arviz", "pymc", "pymc_marketing", "pymc_extras", "pytensor", "numba")
# Seconds a worker asked to stop takes at most before it ends anyway (the server that stops
# it waits 15 before killing it).
STOP_WITHIN = 12.0
log = logging.getLogger("lealta.worker")


def configure_logging(level: str) -> None:
    """Log ``level`` and above to stderr, third-party chatter (:data:`QUIET_LOGGERS`) from
    WARNING."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet = max(logging.WARNING, logging.getLevelName(level.upper()))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)


@friendly
def serve_command(
    host: str | None = typer.Option(None, help="Interface to listen on [LEALTA_HOST, 127.0.0.1]."),
    port: int | None = typer.Option(None, help="Port to listen on [LEALTA_PORT, 8000]."),
    demo: bool = typer.Option(
        False,
        "--demo",
        help="Load the demo shop (customers, orders, web and e-mail events) into an empty "
        "database first, and print keys to explore it with.",
    ),
    demo_customers: int = typer.Option(
        1000, "--demo-customers", help="Size of the demo shop (with --demo)."
    ),
    log_level: str = typer.Option("info", help="debug, info, warning or error."),
) -> None:
    """Start the API (OpenAPI docs at /docs) with the tracking processor inside.

    The database is LEALTA_DATABASE_URL (SQLite ./lealta.db by default), migrated on start.
    With several servers or separate workers, set LEALTA_PROCESS_IN_SERVER=false and run
    'lealta worker' processes.
    """
    import uvicorn

    from lealta.bootstrap import build
    from lealta.rest.app import create_app

    configure_logging(log_level)
    services = build()
    settings = services.settings
    if demo:
        from lealta.demo.platform import ensure_demo

        keys = ensure_demo(services, customers=demo_customers)
        typer.secho(
            "\nDemo shop ready. Keys for this database (kept in demo/keys.env):", fg="green"
        )
        typer.echo(f"  admin key (Authorization: Bearer …): {keys.admin}")
        typer.echo(f"  tracking write key (Segment SDKs, /t.js): {keys.track}")
        typer.echo(f"  console sign-in: {keys.console_email} / {keys.console_password}  (admin)")
    bind_host = host or settings.host
    bind_port = port or settings.port
    worker = _spawn_worker(log_level) if settings.process_in_server else None
    # The worker process applies events; the API process only accepts them.
    services.settings = settings.model_copy(update={"process_in_server": False})
    typer.secho(
        f"\nLealta on http://{bind_host}:{bind_port}/  (console: /, API docs: /docs)", fg="green"
    )
    typer.echo(quiet_hours_note(settings.quiet_hours) + "\n")
    try:
        uvicorn.run(
            create_app(services),
            host=bind_host,
            port=bind_port,
            log_level=log_level,
            proxy_headers=True,
            timeout_graceful_shutdown=10,
        )
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()


def _spawn_worker(log_level: str) -> subprocess.Popen[bytes]:
    """``lealta worker`` beside the server, at a lower CPU priority: accepting events comes
    first, applying them catches up in the time left (it never drops or doubles any)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lealta",
            "worker",
            "--poll",
            "0.2",
            "--nice",
            "10",
            "--parent-pid",
            str(os.getpid()),
            "--log-level",
            log_level,
        ]
    )


@friendly
def worker_command(
    poll: float = typer.Option(1.0, help="Seconds between looks at the inbox when idle."),
    nice: int = typer.Option(0, help="Lower this process's CPU priority by this much (0-19)."),
    exit_with_parent: bool = typer.Option(
        False, "--exit-with-parent", help="Stop when the process that started this one ends."
    ),
    parent_pid: int | None = typer.Option(
        None,
        "--parent-pid",
        help="Stop when the process with this id, which started this one, ends "
        "(lealta serve passes its own; implies --exit-with-parent).",
    ),
    log_level: str = typer.Option("info", help="debug, info, warning or error."),
    send: bool = typer.Option(
        True,
        "--send/--no-send",
        help="Deliver the outbox through the channels the settings set up (e-mail with "
        "LEALTA_SMTP_HOST, SMS, push, web push, webhooks).",
    ),
) -> None:
    """Apply tracked messages to profiles, advance workflow runs, deliver the outbox and run
    the scheduled sweeps, until stopped.

    Run as many as needed against one PostgreSQL database: they share the inbox, the runs and
    the outbox without doing anything twice.
    """
    from lealta.bootstrap import build
    from lealta.channels.registry import configured
    from lealta.tracking.worker import Processor

    configure_logging(log_level)
    if nice:
        os.nice(max(0, min(19, nice)))
    parent = parent_pid if parent_pid is not None else os.getppid()
    watch_parent = exit_with_parent or parent_pid is not None
    services = build(durable=True)  # applied batches on disk before the inbox forgets them
    processor = Processor(services, poll=poll, channels=configured(services) if send else None)
    why: list[str] = []

    def stop(number: int, _frame: Any) -> None:
        why.append(signal.Signals(number).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    processor.start()
    typer.echo("worker running; Ctrl+C to stop", err=True)
    while not why:
        if watch_parent and parent_gone(parent):
            why.append(f"its parent (process {parent}) ended")
            log.warning("stopping: %s without stopping this worker", why[0])
            break
        time.sleep(1.0)
    exit_if_still_running(STOP_WITHIN, why[0])
    processor.stop(timeout=STOP_WITHIN / 3)
    if processor.sender is not None:
        from lealta.channels.registry import close

        close(processor.sender.channels)
    exit_if_threads_left(why[0])


def quiet_hours_note(quiet_hours: str) -> str:
    """What the startup print says of quiet hours: whether they are on, and how to change them."""
    if not quiet_hours:
        return "  quiet hours: off (LEALTA_QUIET_HOURS is empty); messages go out at any hour"
    start, end = quiet_hours.split("-")
    return (
        f"  quiet hours: on, {start} to {end} in each contact's time zone (UTC without one);\n"
        "  messages decided then are held until they end (GET /v1/outbox?status=held).\n"
        "  Change them with LEALTA_QUIET_HOURS=22:00-07:00, or turn them off with"
        " LEALTA_QUIET_HOURS= (empty)."
    )
