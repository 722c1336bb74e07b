"""Automations: workflow definitions (data), the pure step engine, runs, triggers and templates."""
