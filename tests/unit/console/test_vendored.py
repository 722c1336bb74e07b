"""Every file vendored into the console is the pinned one, with its licence beside it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import lealta.console

VENDOR = Path(lealta.console.__file__).parent / "static" / "vendor"


def test_vendored_files_match_their_pinned_checksums() -> None:
    manifest = (VENDOR / "VENDORED.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \| .*`([^`]+)` \|$", manifest, re.M)
    assert rows, "VENDORED.md lists no file"
    listed = {name for name, _digest, _licence in rows}
    present = {p.name for p in VENDOR.iterdir()} - {"VENDORED.md"}
    licences = {licence for _name, _digest, licence in rows}
    assert present == listed | licences
    for name, digest, licence in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
        assert (VENDOR / licence).stat().st_size > 0


def test_the_console_loads_the_vendored_htmx() -> None:
    base = (Path(lealta.console.__file__).parent / "templates" / "base.html").read_text()
    assert "/console/static/vendor/htmx-2.0.11.min.js" in base
    assert '"allowEval": false' in base
