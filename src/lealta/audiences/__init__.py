"""Saved audiences: named conditions whose members are kept up to date (set-wise refreshes,
with ``Audience Entered`` / ``Audience Exited`` events), counted while edited, explained
person by person, and synchronised into a list. See docs/audiences.md."""
