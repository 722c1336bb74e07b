"""Reading import files in chunks, with the line of every row."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lealta.errors import UnreadableFile
from lealta.imports.files import Row, detect_format, open_import


def read_all(path: Path, **options: object) -> tuple[list[str], list[Row], int]:
    with open_import(path, chunk=2, **options) as opened:  # type: ignore[arg-type]
        chunks = list(opened.chunks())
        return opened.columns, [row for chunk in chunks for row in chunk], len(chunks)


def test_csv_lines_count_the_header_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text(
        'email,note\na@x.com,"two\nlines"\n\nb@x.com,plain\nc@x.com\nd@x.com,x,extra\n',
        encoding="utf-8",
    )
    columns, rows, chunks = read_all(path)
    assert columns == ["email", "note"]
    assert [(r.line, r.values.get("email")) for r in rows] == [
        (2, "a@x.com"), (5, "b@x.com"), (6, "c@x.com"), (7, "d@x.com"),
    ]  # fmt: skip
    assert rows[0].values["note"] == "two\nlines"
    assert [r.problem is not None for r in rows] == [False, False, True, True]
    assert chunks == 2


def test_gzipped_and_semicolon_csv(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\ufefforder;total\n1;2,5\n")
    columns, rows, _ = read_all(path)
    assert columns == ["order", "total"]
    assert rows[0].values == {"order": "1", "total": "2,5"}


def test_json_lines_report_lines_that_are_not_objects(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "A", "userId": "u"}\n\n[1]\n{broken\n{"event": "B"}\n')
    columns, rows, _ = read_all(path)
    assert columns == ["event", "userId"]
    assert [(r.line, r.problem) for r in rows][:1] == [(1, None)]
    assert rows[1].line == 3
    assert rows[1].problem == "not a JSON object"
    assert rows[2].line == 4
    assert rows[2].problem is not None
    assert rows[2].problem.startswith("not valid JSON")
    assert (rows[3].line, rows[3].values) == (5, {"event": "B"})


def test_parquet_rows_are_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"id": ["a", "b", "c"], "total": [1.0, 2.0, 3.0]}), path)
    columns, rows, chunks = read_all(path)
    assert columns == ["id", "total"]
    assert [(r.line, r.values["id"]) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]
    assert chunks == 2


def test_formats_come_from_the_extension_or_the_option(tmp_path: Path) -> None:
    assert detect_format(Path("x.csv.gz")) == "csv"
    assert detect_format(Path("x.ndjson")) == "jsonl"
    assert detect_format(Path("x.dat"), "parquet") == "parquet"
    with pytest.raises(UnreadableFile, match="--format"):
        detect_format(Path("x.dat"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.csv", None, "no such file"),
        ("empty.csv", b"", "empty"),
        ("bad.parquet", b"not parquet at all", "Parquet"),
        ("latin.csv", "name\nJos\u00e9\n".encode("latin-1"), "cannot be read"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        read_all(path)
