"""API keys: hashed secrets with scopes (write-only tracking keys, admin keys)."""
