"""Tracking: the Segment-compatible HTTP API, the inbox and the processor applying it."""
