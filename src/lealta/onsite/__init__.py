"""On-site and in-app messages: content slots filled per visitor."""
