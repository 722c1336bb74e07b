"""The ``lealta`` command line (Typer)."""
