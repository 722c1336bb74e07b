"""The REST API (FastAPI): tracking under the Segment spec, contacts, orders, rules, forms."""
