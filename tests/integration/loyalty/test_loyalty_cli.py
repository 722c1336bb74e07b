"""``lealta loyalty import|show|export|apply`` on a store that has orders."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from lealta.loyalty.program import load_program
from tests.e2e.cli import run
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import PROGRAM, post_orders


def lealta(api: Api, folder: Path, *args: str, code: int = 0) -> tuple[str, str]:
    """``lealta loyalty ARGS`` on the api fixture's store, inside the test process (the same
    Typer app, settings and bootstrap as the program: see tests/e2e/cli.py)."""
    return run(folder, "loyalty", *args, code=code, database_url=api.services.settings.database_url)


def test_import_show_export_and_apply(api: Api, tmp_path: Path) -> None:
    _, err = lealta(api, tmp_path, "show", code=2)
    assert "no loyalty programme is in force" in err
    source = tmp_path / "friends.yaml"
    source.write_text(PROGRAM, encoding="utf-8")
    out, _ = lealta(api, tmp_path, "import", str(source))
    assert "saved programme 'Friends' as version 1: Member, Silver, Gold" in out
    shown, _ = lealta(api, tmp_path, "show")
    assert shown.startswith("# programme in force: version 1")
    assert load_program(yaml.safe_load(shown)) == load_program(PROGRAM)
    lealta(api, tmp_path, "export", "-o", str(tmp_path / "out.yaml"))
    assert load_program((tmp_path / "out.yaml").read_text("utf-8")) == load_program(PROGRAM)
    today = dt.datetime.now(dt.UTC).date()  # the CLI runs on the system clock
    post_orders(
        api,
        [
            ("ana", "a1", today - dt.timedelta(days=3), "300"),
            ("ana", "a2", today - dt.timedelta(days=2), "300"),
            ("ben", "b1", today - dt.timedelta(days=1), "10"),
        ],
    )
    out, err = lealta(api, tmp_path, "apply")
    assert "Reading orders" in err
    assert "100% Reviewed 2 customers" in err
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "1" in lines["Gold"]
    assert "1" in lines["Member"]
    assert "2 customers in a tier; 2 up, 0 down" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(PROGRAM.replace("percent: 5", "percent: 500"), encoding="utf-8")
    _, err = lealta(api, tmp_path, "import", str(bad), code=2)
    assert "tiers[Silver].benefits[0].percent" in err
