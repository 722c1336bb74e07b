"""Builders of test data shared by every tier: people, events, orders, outbox rows, workflow
runs, and the settings and services a test wires.

Each builder is a plain function taking the session (or what it builds on) and keyword
overrides; it writes through the product's own service functions where there is one
(``resolve``, ``record_consent``, ``add_tag``, ``enqueue``, ``record_order``, ``record_event``),
so tests set their scene along the paths the product takes, and it takes the moment as an
argument (the test's injected clock) instead of reading the real one.

- :mod:`tests.factories.contacts`: a person with identifiers, consents, attributes and tags.
- :mod:`tests.factories.events`: an event of a person; the events stored, detached.
- :mod:`tests.factories.orders`: an order of a person.
- :mod:`tests.factories.outbox`: a message enqueued or already sent; rows and interactions.
- :mod:`tests.factories.runs`: a workflow and runs of it, written as the engine leaves them.
- :mod:`tests.factories.services`: test settings, services on a unit of work, API keys.
- :mod:`tests.factories.tracked`: a person made by an ``identify`` call through the API; the
  contact an identifier leads to.
"""
