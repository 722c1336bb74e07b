"""Analytics engines: where the ibis expressions run.

DuckDB (in-process) is the default; Apache Spark (local or a cluster, via ``pyspark``) runs the
very same expressions when data outgrows one machine. Nothing connects at import time.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any, Literal

from lealta.errors import InvalidInput

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


@dataclass
class Engine:
    """An ibis backend plus the name of the engine behind it."""

    name: EngineName
    con: Any  # an ibis backend; typed loosely because ibis ships no stubs

    def in_input_order(self) -> Any:
        """A context in which scans keep the input's row order (for numbering rows)."""
        import contextlib

        @contextlib.contextmanager
        def ordered() -> Any:
            if self.name != "duckdb":
                yield
                return
            self.con.raw_sql("SET preserve_insertion_order = true")
            try:
                yield
            finally:
                self.con.raw_sql("SET preserve_insertion_order = false")

        return ordered()

    def execute(self, expr: Any) -> Any:
        """Run a table expression and return a pandas DataFrame (via Arrow)."""
        return self.con.to_pyarrow(expr).to_pandas()

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        """Run a table expression and return its rows as dicts (no pandas on the way)."""
        if self.name == "duckdb":
            relation = self._duckdb_relation(expr)
            return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
        rows: list[dict[str, Any]] = self.con.to_pyarrow(expr).to_pylist()
        return rows

    def _duckdb_relation(self, expr: Any) -> Any:
        """DuckDB's own result, fetched without Arrow: ibis' Arrow converter imports pandas,
        about 0.4 s of start-up that a run writing only files would otherwise pay."""
        return self.con._to_duckdb_relation(expr)

    def materialize(self, expr: Any) -> Any:
        """Compute ``expr`` once into a temporary table of this engine and return that table.

        (``Table.cache()`` would pick ibis' default backend for in-memory inputs.)
        """
        if self.name == "duckdb":
            import uuid

            name = f"lealta_{uuid.uuid4().hex}"
            return self.con.create_table(name, expr, temp=True)
        return expr.cache()

    def track_progress(self, on: bool) -> None:
        """Let :meth:`query_progress` report (DuckDB only tracks progress when asked)."""
        if self.name == "duckdb":
            self.con.raw_sql(f"SET enable_progress_bar = {'true' if on else 'false'}")

    def query_progress(self) -> float | None:
        """Percent done of the query running now (from another thread); ``None`` if unknown."""
        if self.name != "duckdb":
            return None
        value = float(self.con.con.query_progress())
        return value if value >= 0 else None

    def scalar(self, expr: Any) -> Any:
        """Run a scalar expression and return a Python value."""
        if self.name == "duckdb":
            rows = self._duckdb_relation(expr).fetchall()
            return rows[0][0] if rows else None
        return self.con.to_pyarrow(expr).as_py()


def connect(name: str = "duckdb", *, threads: int | None = None) -> Engine:
    """Connect to an analytics engine by name (``duckdb`` or ``spark``)."""
    if name == "duckdb":
        return Engine("duckdb", _duckdb(threads))
    if name == "spark":
        return Engine("spark", _spark())
    raise InvalidInput(
        f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}", field="engine"
    )


DUCKDB_MEMORY_DEFAULT = "512MB"


def _duckdb(threads: int | None) -> Any:
    """An in-process DuckDB with a memory cap; past it, aggregates spill to a scratch folder.

    ``LEALTA_DUCKDB_MEMORY`` sets the cap (default 512MB, which keeps a ten-million-order
    run under 1 GB of memory at no cost in speed); ``LEALTA_DUCKDB_THREADS`` the threads.
    """
    import atexit
    import shutil

    scratch = tempfile.mkdtemp(prefix="lealta-duckdb-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    config: dict[str, Any] = {
        "memory_limit": os.environ.get("LEALTA_DUCKDB_MEMORY", DUCKDB_MEMORY_DEFAULT),
        "temp_directory": scratch,
        # Results are ordered explicitly where order matters; not keeping the scan order
        # lets aggregates and writes run in parallel with less memory.
        "preserve_insertion_order": False,
    }
    threads = threads or int(os.environ.get("LEALTA_DUCKDB_THREADS", "0") or 0)
    if threads:
        config["threads"] = threads
    con = _duckdb_backend()().connect(**config)
    # DuckDB never prints its own bar; the command line asks for progress when it shows one.
    con.raw_sql("SET enable_progress_bar = false")
    con.raw_sql("SET enable_progress_bar_print = false")
    return con


def _duckdb_backend() -> Any:
    """ibis' DuckDB backend, reading table schemas as plain rows.

    ibis fetches a ``DESCRIBE`` as an Arrow table, which imports pyarrow and numpy (about 0.1 s
    of start-up) for a few rows of text; a run that only writes files needs neither.
    """
    import duckdb
    import sqlglot.expressions as sge

    _defer_other_compilers()
    from ibis.backends.duckdb import Backend
    from ibis.common.exceptions import TableNotFound
    from ibis.expr.schema import Schema

    class DuckDBBackend(Backend):  # type: ignore[misc]
        def get_schema(
            self, table_name: str, *, catalog: str | None = None, database: str | None = None
        ) -> Any:
            table = sge.table_(table_name, db=database, catalog=catalog, quoted=True)
            try:
                rows = self.con.sql(sge.Describe(this=table).sql(self.dialect)).fetchall()
            except duckdb.CatalogException as exc:
                raise TableNotFound(table_name) from exc
            mapper = self.compiler.type_mapper
            return Schema(
                {
                    name: mapper.from_string(kind, nullable=null == "YES")
                    for name, kind, null, *_ in rows
                }
            )

    return DuckDBBackend


_COMPILERS = "ibis.backends.sql.compilers"


def _defer_other_compilers() -> None:
    """Let ibis' DuckDB backend load its own SQL compiler without the nineteen others.

    The package ``ibis.backends.sql.compilers`` imports every backend's compiler (and sqlglot
    dialect) in its ``__init__``: about 0.15 CPU s of every run's start, of which DuckDB needs
    one module. The package is registered without running its ``__init__``; a submodule
    (``compilers.duckdb``) imports as usual, and the first other name asked of the package
    (``compilers.PySparkCompiler``, for Spark) runs the ``__init__`` then, so everything ibis
    reads from it is still there.
    """
    import importlib
    import importlib.util
    import sys

    if _COMPILERS in sys.modules:
        return
    importlib.import_module(_COMPILERS.rpartition(".")[0])
    spec = importlib.util.find_spec(_COMPILERS)
    if spec is None or spec.loader is None:  # pragma: no cover - an ibis without the package
        return
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    loaded = False

    def load_rest(name: str) -> Any:
        nonlocal loaded
        if name.startswith("__"):  # dunder look-ups (e.g. by inspect) are not compilers
            raise AttributeError(name)
        if not loaded:
            try:
                return importlib.import_module(f"{_COMPILERS}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{_COMPILERS}.{name}":
                    raise
            loaded = True
            loader.exec_module(package)
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {_COMPILERS!r} has no attribute {name!r}") from None

    package.__getattr__ = load_rest  # type: ignore[method-assign]
    sys.modules[_COMPILERS] = package


_SPARK_SESSION: Any = None


def spark_session() -> Any:
    """One shared local Spark session (start-up costs several seconds).

    ``LEALTA_SPARK_MASTER`` selects the master (default ``local[*]``),
    ``LEALTA_SPARK_PARTITIONS`` the shuffle partitions (default 8) and
    ``LEALTA_SPARK_JAVA_OPTIONS`` extra options for the driver's JVM (none by default; short
    jobs on small files start faster with ``-XX:TieredStopAtLevel=1``, which the tests use); a
    session already active in the process (e.g. on a cluster) is reused as it is.
    """
    global _SPARK_SESSION
    if _SPARK_SESSION is not None:
        return _SPARK_SESSION
    import warnings

    # pyspark 4.3 warns on every conversion under pandas 3, which it handles for our types.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise InvalidInput(
            "the Spark engine needs pyspark: pip install 'lealta[spark]'", field="engine"
        ) from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        _SPARK_SESSION = active
        return active
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # A leftover ./spark-warehouse breaks table creation, so keep Spark's files out of the cwd.
    scratch = tempfile.mkdtemp(prefix="lealta-spark-")
    java_options = [f"-Dderby.system.home={scratch}"]
    java_options += os.environ.get("LEALTA_SPARK_JAVA_OPTIONS", "").split()
    _SPARK_SESSION = (
        SparkSession.builder.master(os.environ.get("LEALTA_SPARK_MASTER", "local[*]"))
        .appName("lealta")
        .config("spark.sql.warehouse.dir", os.path.join(scratch, "warehouse"))
        .config("spark.driver.extraJavaOptions", " ".join(java_options))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", os.environ.get("LEALTA_SPARK_PARTITIONS", "8"))
        .getOrCreate()
    )
    _SPARK_SESSION.sparkContext.setLogLevel("ERROR")
    return _SPARK_SESSION


def _spark() -> Any:
    import ibis

    return ibis.pyspark.connect(spark_session())
