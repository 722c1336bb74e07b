"""Importing contacts, orders and events from files through the tracking pipeline."""
