"""Events: everything that happens to a person, with a time."""
