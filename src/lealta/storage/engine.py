"""Creating the SQLAlchemy engine for the configured database."""

from __future__ import annotations

import json
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event

WAL_PAGES = 4_000  # pages in the write-ahead log before it is copied into the database


def make_engine(url: str, *, durable: bool = False, **options: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    WAL lets readers and one writer work at once; ``synchronous=NORMAL`` is durable across
    application crashes in WAL mode, and ``durable`` (``synchronous=FULL``: the log is synced
    at each commit, about 3 ms) across power losses too. The worker's state database is
    durable: it applies a batch of tracked messages, commits, and only then deletes them from
    the separate inbox file, so the batch must be on disk before the deletion can be (two files
    are flushed by the operating system independently); a sync per batch of up to 10,000
    messages costs next to nothing. The busy timeout makes concurrent writers wait instead of
    failing. Each connection keeps up to 64 MB of pages in memory (SQLite's default is 2 MB):
    writing a million runs or events touches index pages all over, and re-reading them from the
    operating system's cache costs a fifth of the time at that size. The write-ahead log is
    copied into the database (a checkpoint, with two ``fsync``) once it holds 4,000 pages
    (16 MB) rather than SQLite's 1,000: a tracking batch of 2,000 events writes 1,100-1,700
    pages, so a checkpoint ran after nearly every batch and copied the pages every batch
    rewrites (the batch's profiles, the indexes' inner pages) each time (batches are now up to
    10,000 messages; a full one is checkpointed about once). Durability is the same: a commit is
    in the log before it returns, whatever the checkpoints.
    """
    options.setdefault("json_serializer", json_text)
    options.setdefault("json_deserializer", json_value)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _durable_pragmas if durable else _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def json_text(value: Any) -> str:
    """JSON columns' text: orjson's (several times faster than the standard library's, which
    every event, run and message row goes through), or the standard library's for what orjson
    refuses (integers beyond 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def json_value(text: str | bytes) -> Any:
    """A JSON column's value (see :func:`json_text`)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _sqlite_pragmas(connection: Any, _record: Any, synchronous: str = "NORMAL") -> None:
    cursor = connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        f"synchronous={synchronous}",
        "foreign_keys=ON",
        "cache_size=-65536",  # KiB
        "temp_store=MEMORY",
        f"wal_autocheckpoint={WAL_PAGES}",
    ):
        cursor.execute(f"PRAGMA {pragma}")  # constant text, never user input
    cursor.close()


def _durable_pragmas(connection: Any, record: Any) -> None:
    _sqlite_pragmas(connection, record, "FULL")
