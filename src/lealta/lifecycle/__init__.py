"""Lifecycle stages: stages and the rules that move contacts between them, as data."""
