"""Per-person data: what each package keeps about a person, and how it is exported, erased
and moved when two profiles merge (see :mod:`lealta.persons.registry`)."""
