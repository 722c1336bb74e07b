"""The server's and worker's logging: Lealta's INFO lines show, third-party chatter does not."""

from __future__ import annotations

import subprocess
import sys

# Logs as arviz does when the CLV job imports it (arviz/preview.py), without the slow import.
SCRIPT = """
import logging, sys
from lealta.cli.serve import configure_logging
configure_logging(sys.argv[1])
logging.getLogger("arviz.preview").info("arviz_base not installed")
logging.getLogger("pytensor.configdefaults").info("routine note")
logging.getLogger("lealta.jobs.runner").info("own info line")
logging.getLogger("arviz").warning("their warning")
"""


def _stderr(level: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, level], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_third_party_info_is_quiet_while_lealtas_own_info_shows() -> None:
    logged = _stderr("info")
    assert "INFO lealta.jobs.runner: own info line" in logged
    assert "WARNING arviz: their warning" in logged
    assert "arviz_base not installed" not in logged
    assert "routine note" not in logged


def test_a_higher_level_asked_quiets_them_too() -> None:
    logged = _stderr("error")
    assert "their warning" not in logged
    assert "own info line" not in logged
