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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError((self.directory / "server.log").read_text())
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start in 60 s")

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


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A started server with an admin key and a tracking key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
    env.update(
        LEALTA_DATABASE_URL=f"sqlite:///{tmp_path / 'lealta.db'}",
        LEALTA_ENVIRONMENT="test",
        LEALTA_SECRET_KEY="e2e-test-secret",
        LEALTA_CONFIG_FILE=str(tmp_path / "absent.toml"),
    )
    running = Server(tmp_path, free_port(), env)
    running.admin_key = running.cli("keys", "create", "--scope", "admin").strip().splitlines()[-1]
    running.track_key = running.cli("keys", "create", "--scope", "track").strip().splitlines()[-1]
    running.start()
    yield running
    running.stop()
