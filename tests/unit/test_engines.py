"""The DuckDB engine: what connecting loads."""

from __future__ import annotations

import subprocess
import sys

COMPILERS = "ibis.backends.sql.compilers"


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_connecting_loads_only_duckdbs_sql_compiler() -> None:
    loaded = _run(
        "import sys\n"
        "from lealta.engines import connect\n"
        "connect().con.execute(__import__('ibis').memtable({'a': [1, 2]}).a.sum())\n"
        f"print(sorted(m.rpartition('.')[2] for m in sys.modules if m.startswith('{COMPILERS}.')))"
    )
    assert loaded == "['_compat', 'base', 'duckdb']"


def test_the_other_compilers_load_when_asked_for() -> None:
    names = _run(
        "from lealta.engines import connect\n"
        "engine = connect()\n"
        f"from {COMPILERS} import PySparkCompiler\n"
        f"import {COMPILERS} as sc\n"
        "print(PySparkCompiler.__name__, type(sc.duckdb.compiler).__name__,"
        " sc.SQLiteCompiler.__name__)\n"
        "print(engine.scalar(__import__('ibis').literal(2) * 3))"
    )
    assert names == "PySparkCompiler DuckDBCompiler SQLiteCompiler\n6"
