"""Console users: people who sign in to the web console (separate from API keys), their roles,
and the audit log of what they changed."""
