"""The demo shop's saved audiences: the shipped examples, saved after the demo's RFM run and
refreshed at once, so the console's Audiences pages show real people from the start."""

from __future__ import annotations

from pathlib import Path

from lealta.audiences import service
from lealta.audiences.membership import refresh
from lealta.bootstrap import Services

EXAMPLES = Path(__file__).resolve().parents[1] / "audiences" / "examples"


def example_paths() -> list[Path]:
    """The shipped example audiences (YAML), in file name order."""
    return sorted(EXAMPLES.glob("*.yaml"))


def save_demo_audiences(services: Services) -> dict[str, int]:
    """Save each example (a new version only when its file changed) and refresh it at once;
    the members of each audience, by name."""
    sizes: dict[str, int] = {}
    for path in example_paths():
        with services.uow.transaction() as session:
            now = services.clock.now()
            saved = service.save(session, path.read_text(encoding="utf-8"), now=now)
            done = refresh(session, saved.audience, now=now)
        sizes[done.name] = done.size
    return sizes
