"""A real ``lealta serve`` process on a free port and a fresh SQLite database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lealta.storage.base import utcnow
from lealta.storage.engine import make_engine
from lealta.storage.unit_of_work import UnitOfWork
from tests.factories.services import api_keys

LEALTA = [sys.executable, "-m", "lealta"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A server process and what it takes to talk to it."""

    directory: Path
    port: int
    env: dict[str, str]
    admin_key: str = ""
    track_key: str = ""
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return self.env["LEALTA_DATABASE_URL"]

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [*LEALTA, *args], env=self.env, cwd=self.directory, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, *extra: str) -> None:
        with (self.directory / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*LEALTA, "serve", "--port", str(self.port), "--log-level", "warning", *extra],
                env=self.env,
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 300  # generous: only waited out on failure
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError((self.directory / "server.log").read_text())
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start in 300 s")

    def issue_keys(self) -> None:
        """An admin key and a tracking key, written straight into the started server's store
        (the server migrated it; the key commands are tested on their own, and two more
        ``lealta`` processes per test cost seconds). The server reads keys at each request."""
        unit = UnitOfWork(make_engine(self.database_url))
        try:
            with unit.transaction() as session:
                self.admin_key, self.track_key = api_keys(session, utcnow(), site="e2e")
        finally:
            unit.engine.dispose()

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, like a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def server_env(folder: Path) -> dict[str, str]:
    """The environment of a server on a fresh SQLite file in ``folder``, no other settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
    env.update(
        LEALTA_DATABASE_URL=f"sqlite:///{folder / 'lealta.db'}",
        LEALTA_ENVIRONMENT="test",
        LEALTA_SECRET_KEY="e2e-test-secret",
        LEALTA_CONFIG_FILE=str(folder / "absent.toml"),
    )
    return env


def _started(folder: Path) -> Iterator[Server]:
    running = Server(folder, free_port(), server_env(folder))
    running.start()  # on an empty file: the server migrates it
    try:
        running.issue_keys()
        yield running
    finally:
        running.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A started server with an admin key and a tracking key, on a store of its own."""
    yield from _started(tmp_path)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One started server for a module's tests that store nothing (refused requests): a
    server's start costs seconds, so such tests need not each wait for their own."""
    yield from _started(tmp_path_factory.mktemp("server"))
