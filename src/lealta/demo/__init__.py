"""Seeded synthetic shop data for demos, tests and benchmarks."""
