"""The points ledger under concurrent writers, with real threads on real SQLite and PostgreSQL:
redemptions racing for the same points are paid once, a redemption retried concurrently with
one key pays one voucher, and earns, redemptions and the worker's sweep interleaved leave a
gapless ledger whose running balance is right and never below 0."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from lealta.errors import Conflict
from lealta.loyalty import ledger, service
from lealta.loyalty.points_sweeps import sweep
from lealta.loyalty.tables import PointsEntry
from lealta.vouchers.tables import Voucher
from tests.integration.conftest import Api
from tests.integration.loyalty.helpers import ids
from tests.integration.loyalty.points_helpers import START, entries, order, with_points

THREADS = 8


def _race(work: list[Callable[[], Any]]) -> list[Any]:
    """Run every callable in a thread of its own, all released at once; each one's result
    or the exception it raised."""
    results: list[Any] = [None] * len(work)
    gate = threading.Barrier(len(work))

    def run(index: int) -> None:
        gate.wait()
        try:
            results[index] = work[index]()
        except Exception as exc:  # the test looks at every outcome
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def _redeemer(api: Api, cid: str, option: str, key: str) -> Callable[[], ledger.Redemption]:
    with api.services.uow.transaction() as session:
        program = service.require(session).program
    now = api.services.clock.now()

    def work() -> ledger.Redemption:
        return ledger.write(
            api.services.uow,
            lambda s: ledger.redeem(s, cid, program, option=option, key=key, now=now, actor="race"),
        )

    return work


def _adder(api: Api, cid: str, points: int, key: str) -> Callable[[], Any]:
    with api.services.uow.transaction() as session:
        program = service.require(session).program
    now = api.services.clock.now()

    def work() -> Any:
        return ledger.write(
            api.services.uow,
            lambda s: ledger.adjust(
                s, cid, program, points=points, reason="race", key=key, now=now, actor="race"
            ),
        )

    return work


def _assert_consistent(api: Api, cid: str) -> list[PointsEntry]:
    """Entries numbered 1..n without a gap, each balance the running sum, none below 0."""
    found = entries(api, cid)
    assert [e.seq for e in found] == list(range(1, len(found) + 1))
    running = 0
    for entry in found:
        running += entry.points
        assert entry.balance == running >= 0
    return found


def test_concurrent_redemptions_are_paid_only_while_the_points_last(api: Api) -> None:
    with_points(api)
    order(api, "ana", "a-1", START, "1200")
    cid = ids(api, "ana")["ana"]
    sweep(api.services)  # 1200 points: two EUR5 vouchers of 500, not eight
    outcomes = _race([_redeemer(api, cid, "EUR5", f"k{n}") for n in range(THREADS)])
    paid = [o for o in outcomes if isinstance(o, ledger.Redemption)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(paid), len(refused)) == (2, THREADS - 2), outcomes
    assert all("not enough points" in str(o) for o in refused)
    found = _assert_consistent(api, cid)
    assert found[-1].balance == 200
    with api.services.uow.transaction() as session:
        codes = set(session.scalars(select(Voucher.code)))
    assert codes == {p.voucher.code for p in paid}


def test_one_redemption_sent_many_times_at_once_pays_one_voucher(api: Api) -> None:
    with_points(api)
    order(api, "ben", "b-1", START, "2000")
    cid = ids(api, "ben")["ben"]
    sweep(api.services)
    outcomes = _race([_redeemer(api, cid, "EUR5", "same-click") for _ in range(THREADS)])
    assert all(isinstance(o, ledger.Redemption) for o in outcomes), outcomes
    assert len({o.voucher.code for o in outcomes}) == 1
    assert len({o.entry.id for o in outcomes}) == 1
    found = _assert_consistent(api, cid)
    assert [e.points for e in found] == [2000, -500]
    with api.services.uow.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Voucher)) == 1


def test_earns_redemptions_and_the_sweep_interleaved_keep_the_ledger_exact(api: Api) -> None:
    clock = with_points(api)
    order(api, "cruz", "c-1", START, "600")
    cid = ids(api, "cruz")["cruz"]
    sweep(api.services)
    for n in range(4):  # orders the sweep will credit while the others write
        order(api, "cruz", f"c-next-{n}", clock.now(), "50")
    work: list[Callable[[], Any]] = [_adder(api, cid, 10, f"add-{n}") for n in range(6)]
    work += [_redeemer(api, cid, "SHIP", f"ship-{n}") for n in range(5)]
    work.append(lambda: sweep(api.services))
    outcomes = _race(work)
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, Conflict)]
    assert unexpected == []
    found = _assert_consistent(api, cid)
    kinds = [e.kind for e in found]
    assert kinds.count("adjust") == 6
    assert kinds.count("earn") == 5  # the first order and the four credited by the sweep
    paid = sum(1 for o in outcomes if isinstance(o, ledger.Redemption))
    assert kinds.count("redeem") == paid >= 3  # 600 + 60 + 200 points pay at least three
    assert found[-1].balance == 600 + 60 + 200 - 200 * paid
