"""Background jobs: long work (recomputing RFM) queued by the console, the API or the CLI and
run by the worker, with its progress stored as it goes (see :mod:`lealta.jobs.service`)."""
