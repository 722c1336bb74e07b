"""Status points from a file, for assigning tiers to an order file without a store.

An order file holds no points ledger, so a programme with ``points`` rules needs each
customer's status points from elsewhere (the shop's own loyalty system, an export of
Lealta's): a file (CSV, Parquet, Excel or JSON, like order files) with one row per customer
and the columns

* ``customer_id``: the customer, as in the order file;
* ``points``: their status points, when every points rule of the programme reads the same
  window; or ``points_{d}d`` (``points_365d`` …) for each window ``d`` the rules read, which
  a programme with points rules of several windows needs.

Points are whole numbers, 0 or more. A customer missing from the file has none; a customer
of the file without a usable order in the order file gets no row (as in the store's review,
tiers go to customers with orders).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lealta.errors import InvalidInput, MissingColumn
from lealta.loyalty.facts import points_column

if TYPE_CHECKING:
    from lealta.loyalty.program import LoyaltyProgram

FIELD = "points"


def needs_points(program: LoyaltyProgram, points: Path | None) -> None:
    """Refuse a points file the programme does not read, or a programme whose points rules
    have no points file (the message names the first such rule and the option).

    Raises
    ------
    InvalidInput
        In either case (``field="points"``).
    """
    places = program.points_rule_places()
    if places and points is None:
        raise InvalidInput(
            f"the programme's rule {places[0]} needs status points, which an order file "
            "does not hold: give --points FILE (columns customer_id and points) or review "
            "the tiers in the store, where the points ledger is",
            field=FIELD,
        )
    if points is not None and not places:
        raise InvalidInput(
            f"--points {points}: the programme has no points rule to read it", field=FIELD
        )


def read_points(engine: Any, path: Path, program: LoyaltyProgram, *, encoding: str) -> Any:
    """The file's status points as a pandas DataFrame: ``customer_id`` (text) and
    ``points_{d}d`` (int64) for each window of the programme's points rules.

    Raises
    ------
    MissingColumn
        The file lacks ``customer_id`` or the points columns the programme needs.
    InvalidInput
        A value is not a whole number of 0 or more, or a customer appears twice (the
        message names the customer and the column).
    """
    from lealta.orders.sources import open_source

    source = open_source(engine, path, encoding=encoding)
    frame = engine.execute(source.table)
    frame.columns = [str(c).strip() for c in frame.columns]
    columns = _columns(list(frame.columns), program, path)
    if "customer_id" not in frame.columns:
        raise MissingColumn(f"{path}: no customer_id column", field=FIELD)
    ids = frame["customer_id"].astype("string").str.strip()
    twice = ids[ids.duplicated()].dropna()
    if len(twice):
        raise InvalidInput(f"{path}: customer {twice.iloc[0]!r} appears twice", field=FIELD)
    import pandas as pd

    found = pd.DataFrame({"customer_id": ids})
    for target, column in columns.items():
        found[target] = _whole(frame[column], ids, column, path)
    return found[found["customer_id"].notna()].reset_index(drop=True)


def _columns(present: list[str], program: LoyaltyProgram, path: Path) -> dict[str, str]:
    """Per facts column of the programme, the file's column holding it."""
    wanted = [points_column(d) for d in program.points_windows()]
    if all(c in present for c in wanted):
        return {c: c for c in wanted}
    if "points" in present and len(wanted) == 1:
        return {wanted[0]: "points"}
    missing = [c for c in wanted if c not in present]
    several = " (one per window: the programme's points rules read several)"
    raise MissingColumn(
        f"{path}: no column {', '.join(missing)}" + (several if len(wanted) > 1 else " or points"),
        field=FIELD,
    )


def _whole(values: Any, ids: Any, column: str, path: Path) -> Any:
    import pandas as pd

    text = values.astype("string").str.strip()
    numbers = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
    bad = (text.notna() & (text != "") & numbers.isna()) | (numbers < 0) | (numbers % 1 != 0)
    if bad.any():
        first = bad[bad].index[0]
        raise InvalidInput(
            f"{path}: customer {ids[first]!r}: {column} is {text[first]!r}, not a whole "
            "number of 0 or more",
            field=FIELD,
        )
    return numbers.fillna(0).astype("int64")


def attach_points(facts: Any, points: Any, program: LoyaltyProgram) -> Any:
    """``facts`` (ibis, one row per customer) with the points columns of ``points`` (from
    :func:`read_points`); null where the file has no row for the customer."""
    import ibis

    columns = [points_column(d) for d in program.points_windows()]
    right = ibis.memtable(
        points, schema={"customer_id": "string", **dict.fromkeys(columns, "int64")}
    )
    right = right.select(_pid=right.customer_id, **{c: right[c] for c in columns})
    joined = facts.left_join(right, facts.customer_id.cast("string") == right._pid)
    return joined.select(*(joined[c] for c in facts.columns), *(joined[c] for c in columns))
