"""Message templates: stored, validated, rendered in a sandbox for one contact."""
