"""``python -m lealta``."""

from lealta.cli.main import app

app()
