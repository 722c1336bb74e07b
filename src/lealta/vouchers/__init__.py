"""Vouchers: unique, unguessable, single-use codes with a value and an expiry."""
