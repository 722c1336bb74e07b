"""Contacts: one profile per person, reached through its identifiers."""
