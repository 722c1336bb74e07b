"""The demo shop's loyalty programme: the shipped ``genius.yaml``, saved before the demo's RFM
run so that the run's review puts every customer in a tier, and the console's Loyalty pages
show real figures from the start."""

from __future__ import annotations

from pathlib import Path

from lealta.bootstrap import Services
from lealta.loyalty import service

EXAMPLE = Path(__file__).resolve().parents[1] / "loyalty" / "examples" / "genius.yaml"


def example_text() -> str:
    """The shipped example programme, as YAML text (its comments included)."""
    return EXAMPLE.read_text(encoding="utf-8")


def save_demo_program(services: Services) -> int:
    """Save the example as the programme in force unless one is; its version."""
    with services.uow.transaction() as session:
        found = service.get(session)
        if found is not None:
            return found.version
        return service.save(session, example_text(), now=services.clock.now()).version
