"""Events per second accepted by ``POST /v1/batch``, beside the SQLite ``executemany`` floor.

A real ``lealta serve`` process on a fresh SQLite database (the embedded default, tracking
processor running inside as shipped) receives batches of 100 Segment ``track`` messages from
client threads on the same machine over keep-alive HTTP connections. Its figure is set beside
two floors measured in the same run on the same rows:

* inbox floor: the rows acceptance writes (message id, JSON payload, time) inserted straight
  into the same ``inbox`` table (same unique index) with ``executemany``, one commit per 100;
* events floor: the same messages as rows of the ``events`` table, with its five indexes.

Then the time the processor needs to apply everything to profiles (identity, event rows,
lifecycle, scores) is reported as a second figure.

    python benchmarks/ingest.py                 # 100,000 events, 2 client threads
    python benchmarks/ingest.py --events 20000 --clients 1 --json out.json
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

BATCH = 100
TARGET_EVENTS_PER_S = 20_000
TARGET_RATIO = 4.0
NAMES = ["Product Viewed", "Product Added", "Email Opened", "Checkout Started", "Signed Up"]


def _messages(count: int) -> list[dict[str, Any]]:
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
        for i in range(count)
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


def _serve(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "lealta", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def _post_all(port: int, key: str, bodies: list[bytes], clients: int) -> float:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    failures: list[str] = []

    def send(share: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for body in share:
            connection.request(
                "POST",
                "/v1/batch",
                body,
                {"Authorization": auth, "Content-Type": "application/json"},
            )
            answer = connection.getresponse()
            text = answer.read()
            if answer.status != 200 or b'"rejected":[]' not in text:
                failures.append(f"{answer.status} {text[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=send, args=(bodies[i::clients],)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, first: {failures[0]}")
    return elapsed


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _wait_applied(database: Path, expected: int, timeout: float = 1800) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        if _count(database, "inbox") == 0 and _count(database, "events") >= expected:
            return time.perf_counter() - began
        time.sleep(0.2)
    raise SystemExit("the processor did not finish in time")


def _floor(env: dict[str, str], workdir: Path, messages: list[dict[str, Any]], table: str) -> float:
    """The same rows straight into a freshly migrated database with executemany."""
    database = workdir / f"floor-{table}.db"
    floor_env = {**env, "LEALTA_DATABASE_URL": f"sqlite:///{database}"}
    _lealta(floor_env, workdir, "db", "upgrade")
    received = dt.datetime.now(dt.UTC).isoformat(sep=" ")
    if table == "inbox":
        sql = "INSERT INTO inbox (message_id, payload, received_at) VALUES (?, ?, ?)"
        rows = [(m["messageId"], json.dumps(m), received) for m in messages]
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
    connection = sqlite3.connect(database, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    began = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        connection.execute("BEGIN")
        connection.executemany(sql, rows[start : start + BATCH])
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - began
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to send (x100)")
    parser.add_argument("--clients", type=int, default=2, help="client threads (default 2)")
    parser.add_argument(
        "--without-worker",
        action="store_true",
        help="accept only (LEALTA_PROCESS_IN_SERVER=false): no processor competing for the CPU",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    options = parser.parse_args()
    count = max(BATCH, options.events // BATCH * BATCH)
    messages = _messages(count)
    bodies = [
        json.dumps({"batch": messages[i : i + BATCH]}).encode() for i in range(0, count, BATCH)
    ]
    with tempfile.TemporaryDirectory(prefix="lealta-ingest-") as tmp:
        workdir = Path(tmp)
        database = workdir / "lealta.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEALTA_")}
        env.update(
            LEALTA_DATABASE_URL=f"sqlite:///{database}",
            LEALTA_ENVIRONMENT="test",
            LEALTA_SECRET_KEY="benchmark-secret",
            LEALTA_TRACK_RATE_LIMIT="1000000",
            LEALTA_PROCESS_IN_SERVER="false" if options.without_worker else "true",
            LEALTA_CONFIG_FILE=str(workdir / "none.toml"),
        )
        key = _lealta(env, workdir, "keys", "create", "--scope", "track").strip().splitlines()[-1]
        port = _free_port()
        server = _serve(env, workdir, port)
        try:
            _post_all(port, key, bodies[:20], 1)  # warm-up: imports, caches, JIT-free paths
            warm = 20 * BATCH
            accepted_s = _post_all(port, key, bodies[20:], options.clients)
            applied_s = 0.0 if options.without_worker else _wait_applied(database, count)
        finally:
            server.terminate()
            server.wait(30)
        timed = count - warm
        inbox_floor_s = _floor(env, workdir, messages[warm:], "inbox")
        events_floor_s = _floor(env, workdir, messages[warm:], "events")

    figures = {
        "events": timed,
        "batch": BATCH,
        "clients": options.clients,
        "accepted_per_s": timed / accepted_s,
        "inbox_floor_per_s": timed / inbox_floor_s,
        "events_floor_per_s": timed / events_floor_s,
        "ratio_to_inbox_floor": accepted_s / inbox_floor_s,
        "ratio_to_events_floor": accepted_s / events_floor_s,
        "applied_per_s_after_sending": None
        if options.without_worker
        else count / (accepted_s + applied_s),
    }
    print(f"\n{timed:,} events in batches of {BATCH}, {options.clients} client thread(s), SQLite")
    print(f"  Lealta POST /v1/batch, accepted:     {figures['accepted_per_s']:>10,.0f} events/s")
    print(f"  floor: executemany into inbox:       {figures['inbox_floor_per_s']:>10,.0f} events/s")
    print(
        f"  floor: executemany into events:      {figures['events_floor_per_s']:>10,.0f} events/s"
    )
    print(
        f"  Lealta / inbox floor (time):         {figures['ratio_to_inbox_floor']:>10.2f}x"
        f"   (events floor: {figures['ratio_to_events_floor']:.2f}x)"
    )
    if figures["applied_per_s_after_sending"] is not None:
        print(
            "  applied to profiles (whole run):     "
            f"{figures['applied_per_s_after_sending']:>10,.0f} events/s"
        )
    verdict = (
        figures["accepted_per_s"] >= TARGET_EVENTS_PER_S
        and figures["ratio_to_inbox_floor"] <= TARGET_RATIO
    )
    print(
        f"  target (>= {TARGET_EVENTS_PER_S:,}/s and within {TARGET_RATIO:g}x of the floor): "
        + ("met" if verdict else "missed")
    )
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
