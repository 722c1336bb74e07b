"""Events per second accepted by ``POST /v1/batch`` and applied to profiles, beside the floors,
and the lag from acceptance to profile during a steady stream.

Real processes on a fresh database: one ``lealta serve`` (tracking processor off) receives
batches of 100 Segment ``track`` messages from client threads over keep-alive HTTP
connections, while ``lealta worker`` processes apply them to profiles (identity, event rows,
stage, score, triggers). Three figures, set beside floors measured in the same run:

* accepted: events/s from the first request to the last answer;
* applied: events/s from the first request until the last event reached the events table
  and the inbox is empty (end to end, workers running all along);
* lag: seconds from a message's acceptance (its 200 answer) to its event row, at p50 and p95,
  while the clients send a steady 2,000 events/s (``--rate``) for ``--seconds``; the events
  table is polled every 50 ms, so figures are good to about that.

Floors: the same rows straight into the ``inbox`` table and into the ``events`` table (its
five indexes) by ``executemany``, one commit per 100 rows. On PostgreSQL the run is repeated
with 1, 2 and 4 workers (``--workers``), and the CPU seconds of the server, the workers and
the database's own backends (from ``/proc``, same machine) are reported.

    python benchmarks/ingest.py                      # SQLite, 100,000 events, 1 worker
    python benchmarks/ingest.py --database postgresql --workers 1,2,4
    python benchmarks/ingest.py --events 20000 --seconds 5 --json out.json
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

BATCH = 100
TARGET_APPLIED_PER_S = 15_000
NAMES = ["Product Viewed", "Product Added", "Email Opened", "Checkout Started", "Signed Up"]
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TICK = os.sysconf("SC_CLK_TCK")


def _messages(count: int, first: int = 0) -> list[dict[str, Any]]:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return [
        {
            "type": "track",
            "event": NAMES[i % len(NAMES)],
            "anonymousId": f"visitor-{i % 5000}",
            "messageId": str(uuid.UUID(int=i + 1)),
            "timestamp": (start + dt.timedelta(seconds=i)).isoformat(),
            "properties": {"product_id": f"p-{i % 300}", "price": 19.9 + i % 40, "currency": "EUR"},
            "context": {
                "ip": "203.0.113.9",
                "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
                "page": {"path": "/product/p", "referrer": "https://www.google.com/"},
                "library": {"name": "analytics-python", "version": "2.3.0"},
            },
        }
        for i in range(first, first + count)
    ]


def _bodies(messages: list[dict[str, Any]]) -> list[bytes]:
    return [
        json.dumps({"batch": messages[i : i + BATCH]}).encode()
        for i in range(0, len(messages), BATCH)
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _lealta(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lealta", *args], env=env, cwd=cwd, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return done.stdout


def _start(env: dict[str, str], cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "lealta", *args, "--log-level", "warning"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _serve(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    process = _start(env, cwd, "serve", "--port", str(port))
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


class Client:
    """Posts batches over one keep-alive connection; notes when each batch was accepted."""

    def __init__(self, port: int, key: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = {
            "Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
            "Content-Type": "application/json",
        }

    def post(self, body: bytes) -> float:
        self.connection.request("POST", "/v1/batch", body, self.headers)
        answer = self.connection.getresponse()
        reply = answer.read()
        if answer.status != 200 or b'"rejected":[]' not in reply:
            raise SystemExit(f"request failed: {answer.status} {reply[:200]!r}")
        return time.perf_counter()


def _post_all(port: int, key: str, bodies: list[bytes], clients: int) -> float:
    """Send every body from ``clients`` threads as fast as answered; seconds taken."""
    errors: list[BaseException] = []

    def send(share: list[bytes]) -> None:
        client = Client(port, key)
        try:
            for body in share:
                client.post(body)
        except BaseException as error:  # reported after the join
            errors.append(error)

    threads = [threading.Thread(target=send, args=(bodies[i::clients],)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"sending failed: {errors[0]}")
    return time.perf_counter() - began


def _stream(port: int, key: str, bodies: list[bytes], rate: float) -> dict[str, float]:
    """Send ``bodies`` at ``rate`` events/s; the acceptance time of each batch's messages."""
    client = Client(port, key)
    accepted: dict[str, float] = {}
    began = time.perf_counter()
    for index, body in enumerate(bodies):
        due = began + index * BATCH / rate
        if (pause := due - time.perf_counter()) > 0:
            time.sleep(pause)
        at = client.post(body)
        for message in json.loads(body)["batch"]:
            accepted[message["messageId"]] = at
    return accepted


class Poller(threading.Thread):
    """Notes when each event row appears (every 50 ms), until stopped."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.seen: dict[str, float] = {}
        self.last_id = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.poll()
            time.sleep(0.05)

    def poll(self) -> None:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, message_id FROM events WHERE id > :last ORDER BY id"),
                {"last": self.last_id},
            ).all()
        now = time.perf_counter()
        for row_id, message_id in rows:
            self.seen[message_id] = now
            self.last_id = max(self.last_id, row_id)


def _lags(
    port: int,
    key: str,
    state: Engine,
    inbox: Engine,
    messages: list[dict[str, Any]],
    sent: int,
    rate: float,
) -> list[float]:
    """Seconds from acceptance to event row of each message after the first ``sent``, sent
    as a steady stream of ``rate`` events/s."""
    poller = Poller(state)
    poller.poll()
    poller.start()
    accepted_at = _stream(port, key, _bodies(messages[sent:]), rate)
    _wait_applied(state, inbox, len(messages))
    poller.stop.set()
    poller.join()
    poller.poll()
    return [poller.seen[m] - at for m, at in accepted_at.items() if m in poller.seen]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def _wait_applied(state: Engine, inbox: Engine, expected: int, timeout: float = 3600) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        with inbox.connect() as connection:
            waiting = connection.execute(text("SELECT count(*) FROM inbox")).scalar_one()
        with state.connect() as connection:
            # the benchmark's events (those Lealta derives have no anonymous id)
            stored = connection.execute(
                text("SELECT count(*) FROM events WHERE anonymous_id IS NOT NULL")
            ).scalar_one()
        if waiting == 0 and stored >= expected:
            return time.perf_counter()
        time.sleep(0.1)
    raise SystemExit("the workers did not finish in time")


def _floor(engine: Engine, messages: list[dict[str, Any]], table: str) -> float:
    """The same rows straight into the table with executemany, a commit per batch."""
    received = dt.datetime.now(dt.UTC).isoformat(sep=" ")
    if table == "inbox":
        sql = "INSERT INTO inbox (message_id, payload, received_at) VALUES (?, ?, ?)"
        rows: list[tuple[Any, ...]] = [(m["messageId"], json.dumps(m), received) for m in messages]
    else:
        sql = (
            "INSERT INTO events (message_id, anonymous_id, type, name, properties, context, "
            "occurred_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        rows = [
            (
                m["messageId"],
                m["anonymousId"],
                m["type"],
                m["event"],
                json.dumps(m["properties"]),
                json.dumps(m["context"]),
                m["timestamp"],
                received,
            )
            for m in messages
        ]
    if engine.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        began = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])
            raw.commit()
        return time.perf_counter() - began
    finally:
        raw.close()


def _cpu(pid: int) -> float:
    """CPU seconds of a process and its waited-for children (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / TICK


class Database:
    """A fresh SQLite file or PostgreSQL database for one run."""

    def __init__(self, kind: str, folder: Path, admin_url: str) -> None:
        self.kind = kind
        self.admin_url = admin_url
        if kind == "sqlite":
            self.url = f"sqlite:///{folder / 'lealta.db'}"
            self.inbox_url = f"sqlite:///{folder / 'lealta-inbox.db'}"
            self.name = ""
        else:
            self.name = f"lealta_ingest_{uuid.uuid4().hex[:10]}"
            with create_engine(admin_url, isolation_level="AUTOCOMMIT").connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))  # generated name
            self.url = make_url(admin_url).set(database=self.name).render_as_string(False)
            self.inbox_url = self.url

    def backends(self, state: Engine) -> list[int]:
        if self.kind != "postgresql":
            return []
        with state.connect() as connection:
            return list(
                connection.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                    {"name": self.name},
                ).scalars()
            )

    def drop(self) -> None:
        if self.kind == "postgresql":
            with create_engine(self.admin_url, isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def run(kind: str, workers: int, options: argparse.Namespace) -> dict[str, Any]:
    """One configuration: throughput, then the steady stream's lag."""
    count = max(BATCH, options.events // BATCH * BATCH)
    warm = 20 * BATCH
    streamed = int(options.rate * options.seconds) // BATCH * BATCH
    messages = _messages(count + streamed)
    with tempfile.TemporaryDirectory(prefix="lealta-ingest-") as tmp:
        workdir = Path(tmp)
        database = Database(kind, workdir, options.postgres_url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
        env.update(
            LEALTA_DATABASE_URL=database.url,
            LEALTA_ENVIRONMENT="test",
            LEALTA_SECRET_KEY="benchmark-secret",
            LEALTA_TRACK_RATE_LIMIT="1000000",
            LEALTA_PROCESS_IN_SERVER="false",
            LEALTA_CONFIG_FILE=str(workdir / "none.toml"),
        )
        processes: list[subprocess.Popen[bytes]] = []
        try:
            _lealta(env, workdir, "db", "upgrade")
            key = _lealta(env, workdir, "keys", "create", "--scope", "track").split()[-1]
            port = _free_port()
            server = _serve(env, workdir, port)
            processes.append(server)
            _post_all(port, key, _bodies(messages[:warm]), 1)  # imports, caches
            state, inbox = create_engine(database.url), create_engine(database.inbox_url)
            workers_ = [
                _start(env, workdir, "worker", "--poll", "0.05", "--no-send")
                for _ in range(workers)
            ]
            processes.extend(workers_)
            if workers:
                _wait_applied(state, inbox, warm)
            cpu_before = {p.pid: _cpu(p.pid) for p in processes}
            backends_before = {pid: _cpu(pid) for pid in database.backends(state)}
            began = time.perf_counter()
            accepted_s = _post_all(port, key, _bodies(messages[warm:count]), options.clients)
            applied_s = _wait_applied(state, inbox, count) - began if workers else 0.0
            cpu = {p.pid: _cpu(p.pid) - cpu_before[p.pid] for p in processes}
            backends = database.backends(state)
            database_cpu = sum(_cpu(pid) - backends_before.get(pid, 0.0) for pid in backends)
            lags = _lags(port, key, state, inbox, messages, count, options.rate) if workers else []
            timed = count - warm
            # the floors' bare rows are no messages a worker can apply: stop the workers
            # first, or they spend the floors' time setting those rows aside one by one
            for process in workers_:
                process.terminate()
            for process in workers_:
                process.wait(30)
            inbox_floor = _floor(inbox, _messages(timed, 10**7), "inbox")
            events_floor = _floor(state, _messages(timed, 2 * 10**7), "events")
            state.dispose()
            inbox.dispose()
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
            database.drop()
    return {
        "database": kind,
        "workers": workers,
        "events": timed,
        "accepted_per_s": timed / accepted_s,
        "applied_per_s": timed / applied_s if workers else None,
        "inbox_floor_per_s": timed / inbox_floor,
        "events_floor_per_s": timed / events_floor,
        "cpu_s_server": cpu[server.pid],
        "cpu_s_workers": sum(cpu[p.pid] for p in workers_),
        "cpu_s_database": database_cpu if kind == "postgresql" else None,
        "stream_events_per_s": options.rate,
        "lag_p50_s": _percentile(lags, 0.5),
        "lag_p95_s": _percentile(lags, 0.95),
        "lag_max_s": max(lags, default=float("nan")),
    }


def _print(figures: dict[str, Any]) -> None:
    database = "SQLite" if figures["database"] == "sqlite" else "PostgreSQL"
    print(
        f"\n{database}, {figures['workers']} worker(s), {figures['events']:,} events "
        f"in batches of {BATCH}"
    )
    print(
        f"  accepted {figures['accepted_per_s']:>9,.0f} /s   "
        f"floor: executemany into inbox  {figures['inbox_floor_per_s']:>9,.0f} /s   "
        f"({figures['inbox_floor_per_s'] / figures['accepted_per_s']:.2f}x faster)"
    )
    if figures["applied_per_s"] is None:
        print("  applied: no worker ran (--without-worker)")
        return
    print(
        f"  applied  {figures['applied_per_s']:>9,.0f} /s   "
        f"floor: executemany into events {figures['events_floor_per_s']:>9,.0f} /s   "
        f"({figures['events_floor_per_s'] / figures['applied_per_s']:.2f}x faster)"
    )
    split = f"  CPU s: server {figures['cpu_s_server']:.1f}, workers {figures['cpu_s_workers']:.1f}"
    if figures["cpu_s_database"] is not None:
        split += f", database backends {figures['cpu_s_database']:.1f}"
    print(split + f" ({figures['events'] / figures['cpu_s_workers']:,.0f} events per worker CPU s)")
    print(
        f"  lag at a steady {figures['stream_events_per_s']:,.0f} events/s: "
        f"p50 {figures['lag_p50_s']:.2f} s, p95 {figures['lag_p95_s']:.2f} s, "
        f"max {figures['lag_max_s']:.2f} s"
    )
    if figures["database"] == "sqlite" and figures["workers"] == 1:
        met = figures["applied_per_s"] >= TARGET_APPLIED_PER_S
        print(f"  target: applied >= {TARGET_APPLIED_PER_S:,}/s: " + ("met" if met else "missed"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to send (x100)")
    parser.add_argument("--clients", type=int, default=2, help="client threads (default 2)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("LEALTA_BENCH_PG", POSTGRES_URL))
    parser.add_argument(
        "--workers", default="1", help="worker counts to run, e.g. 1,2,4 (default 1)"
    )
    parser.add_argument("--rate", type=float, default=2000.0, help="steady stream, events/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="steady stream length")
    parser.add_argument(
        "--without-worker", action="store_true", help="accept only: no worker applies events"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    results = []
    counts = [0] if options.without_worker else [int(w) for w in options.workers.split(",")]
    for workers in counts:
        figures = run(options.database, workers, options)
        _print(figures)
        results.append(figures)
    if options.json:
        options.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
