"""The console's Audiences pages on a large store: what each page reads, timed through the same
view-model functions the routes call (no HTTP, no template).

    .venv/bin/python benchmarks/console_audiences.py sqlite:////tmp/lealta-audiences-bench.db

Point it at a store built by ``benchmarks/audiences.py`` (contacts with ``Product Viewed``
events, the audience ``Shoe lookers`` saved and refreshed): a copy, since it writes the
audience's daily sizes for the chart and the list. The list reads the stored sizes only; the
audience's page reads its sizes, a sample of members and where it is used; the builder's
preview is the estimate (answered first), then the exact count with the funnel. The floor is a
bare count of the audience's stored members.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from lealta.audiences import service
from lealta.audiences.tables import AudienceMember, AudienceSize
from lealta.bootstrap import build
from lealta.clock import FrozenClock
from lealta.config import Settings
from lealta.console import audiences_page as page

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)  # the clock of benchmarks/audiences.py's data


def _timed(what: str, work: Callable[[], Any], runs: int = 3) -> Any:
    best, found = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        found = work()
        best = min(best, time.perf_counter() - started)
    print(f"{what:<48} {best:8.3f} s (best of {runs})")
    return found


def _history(services: Any, audience_id: int, size: int) -> None:
    """Thirty days of sizes, as thirty daily refreshes would leave them."""
    with services.uow.transaction() as session:
        for back in range(30):
            day = NOW.date() - dt.timedelta(days=back)
            if session.get(AudienceSize, (audience_id, day)) is None:
                session.add(AudienceSize(audience_id=audience_id, day=day, size=size - back))


def main(argv: list[str]) -> None:
    url = argv[0] if argv else "sqlite:////tmp/lealta-audiences-bench.db"
    settings = Settings(_env_file=None, database_url=url, environment="test", secret_key="bench")
    services = build(settings, clock=FrozenClock(NOW))
    with services.uow.transaction() as session:
        audience = service.get(session, "Shoe lookers")
        audience_id, size = audience.id, audience.size or 0
        draft = page.draft_of(session, audience)
    _history(services, audience_id, size)

    def floor() -> int:
        with services.uow.transaction() as session:
            query = select(func.count()).where(AudienceMember.audience_id == audience_id)
            return int(session.scalar(query) or 0)

    members = _timed("floor: count the stored members", floor)
    print(f"{services.uow.engine.dialect.name}: audience of {members:,} members")
    listed = _timed("list page (stored sizes, sparklines)", lambda: page.list_context(services))
    assert any(row["size"] == size for row in listed["audiences"])
    _timed(
        "audience page (sizes, sample, uses)",
        lambda: page.audience_context(services, audience_id, {}),
    )
    _timed(
        "builder (rules, words, problems)",
        lambda: page.builder_context(services, draft, audience=None),
    )
    estimate = _timed(
        "preview: the estimate", lambda: page.estimate_view(services, draft["condition"])
    )["estimate"]
    exact = _timed(
        "preview: exact count and funnel",
        lambda: page.exact_view(services, draft["condition"]),
        runs=1,
    )
    print(f"estimate {estimate.count:,} ± {estimate.margin:,}; exact {exact['exact']:,}")
    services.uow.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
