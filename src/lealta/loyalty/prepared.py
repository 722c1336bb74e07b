"""The tier assignment as a prepared DuckDB statement, for the console's quick answers: the
programme editor's preview and the contact card's progress.

:func:`lealta.loyalty.service.assign_orders` builds the assignment as an ibis expression on a
fresh DuckDB connection each time. Profiled on the 1,000-customer demo, nearly all of its
second or so goes to fixed costs, not to the data: connecting (and, in a new process,
importing ibis' DuckDB backend), building the expression, compiling it to about 50 kB of SQL
and DuckDB parsing and planning that text. Here one connection per process keeps, per
programme, day and input shape, the SQL compiled once and prepared once; the inputs are
bound under fixed names (``loyalty_in_orders`` or ``loyalty_in_file``, and
``loyalty_in_scores``) that the statement reads, so each later call only runs the plan.
Same expression, same answer
(:func:`assign` equals ``assign_orders``; tested).

Calls are one at a time (one connection); each takes a small fraction of a second.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from lealta.loyalty.program import LoyaltyProgram

ORDERS = "loyalty_in_orders"
FILE = "loyalty_in_file"
SCORES = "loyalty_in_scores"
KEEP = 16  # statements kept per process (least recently used dropped)


class _Prepared:
    """One DuckDB connection and the statements prepared on it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.engine: Any = None
        self.statements: OrderedDict[tuple[Any, ...], str] = OrderedDict()
        self.count = 0

    def connect(self) -> Any:
        if self.engine is None:
            from lealta.engines import connect

            self.engine = connect("duckdb")
        return self.engine


_STATE = _Prepared()


def warm_up() -> None:
    """Import and connect ahead of the first call (a new process pays a few seconds for
    ibis' DuckDB backend); safe to call from any thread, any number of times."""
    with _STATE.lock:
        _STATE.connect()


def _bind(engine: Any, orders: Any, scores: Any, dims: list[str]) -> tuple[str, str]:
    """Put the inputs under fixed names; the orders' name and shape (a statement's key)."""
    con = engine.con.con
    frame = scores[["customer_id", *dims]].astype({"customer_id": "string"})
    con.register(SCORES, frame.astype(dict.fromkeys(dims, "Int64")))
    if isinstance(orders, (str, Path)):
        path = str(orders).replace("'", "''")  # our own temporary file, never user input
        con.execute(f"CREATE OR REPLACE TEMP VIEW {FILE} AS SELECT * FROM read_parquet('{path}')")
        return FILE, "parquet"
    con.register(ORDERS, orders)
    return ORDERS, "arrow:" + str(orders.schema)


def _compile(
    engine: Any, program: LoyaltyProgram, as_of: dt.date, dims: list[str], orders: str
) -> str:
    """The assignment's SQL over the bound inputs (as :func:`assign_orders` builds it)."""
    from lealta.loyalty.assign import assign_tiers
    from lealta.loyalty.facts import purchase_facts
    from lealta.loyalty.service import ASSIGNED
    from lealta.orders.columns import detect_columns
    from lealta.orders.sources import open_source
    from lealta.segmentation.joins import attach
    from lealta.segmentation.options import RFMOptions
    from lealta.segmentation.store import STORE_COLUMNS

    source = open_source(engine, engine.con.table(orders))
    roles: dict[str, str | None] = dict(STORE_COLUMNS)
    columns = detect_columns(source.columns, roles, ()).columns
    facts = purchase_facts(
        engine, source, columns, RFMOptions(cancel_pattern=""), program,
        date_format=None, as_of=as_of, row_per_order=True,
    )  # fmt: skip
    stored = engine.con.table(SCORES)
    assigned = assign_tiers(attach(facts, stored, ["customer_id"], dims), program)
    expr = assigned.select(*ASSIGNED[1:], contact_id=assigned.customer_id)
    return str(engine.con.compile(expr))


def assign(orders: Any, program: LoyaltyProgram, scores: Any, as_of: dt.date) -> Any:
    """What :func:`lealta.loyalty.service.assign_orders` answers for the same inputs
    (``orders``: the store's Parquet export or an Arrow table of its columns), as a pandas
    DataFrame, from the statement prepared for this programme, day and input shape."""
    from lealta.loyalty.status_points import point_columns

    # the per-customer facts bound beside the orders: scores, and status points if read
    dims = [f"{dim}_score" for dim in program.dimension_names] + point_columns(program)
    with _STATE.lock:
        engine = _STATE.connect()
        con = engine.con.con
        table, shape = _bind(engine, orders, scores, dims)
        key = (program.model_dump_json(), as_of, shape)
        name = _STATE.statements.get(key)
        if name is None:
            sql = _compile(engine, program, as_of, dims, table)
            _STATE.count += 1
            name = f"loyalty_assign_{_STATE.count}"
            con.execute(f"PREPARE {name} AS {sql}")
            _STATE.statements[key] = name
            while len(_STATE.statements) > KEEP:
                _old, dropped = _STATE.statements.popitem(last=False)
                con.execute(f"DEALLOCATE {dropped}")
        _STATE.statements.move_to_end(key)
        result = con.sql(f"EXECUTE {name}").arrow().read_all()
        con.unregister(SCORES)
        if table == ORDERS:
            con.unregister(ORDERS)
        return result.to_pandas()
