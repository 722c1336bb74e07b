"""One SQL expression written twice, for SQLite and for PostgreSQL, chosen when compiled.

JSON is read differently by the two databases (``json_extract``/``json_each`` against
``jsonb_extract_path``/``jsonb_array_elements``), so the condition compiler builds both
spellings and lets the statement's dialect pick one; :func:`lealta.conditions.sql.members_query`
stays one call whatever the database. Both spellings are built from SQLAlchemy expressions
with bound parameters: nothing a user typed is spliced into SQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, false, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeEngine


class Either(ColumnElement[Any]):
    """``sqlite`` on SQLite, ``postgresql`` on PostgreSQL (and on any other dialect)."""

    # Both spellings and the type make the cache key, so a statement holding one is compiled
    # once per shape and dialect (the live path runs the same audience's query every batch);
    # the values of both spellings' parameters are taken from each new statement.
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy declares it a list)
        ("sqlite", InternalTraversal.dp_clauseelement),
        ("postgresql", InternalTraversal.dp_clauseelement),
        ("type", InternalTraversal.dp_type),
    ]
    inherit_cache = True

    def __init__(self, *, sqlite: Any, postgresql: Any, type_: TypeEngine[Any]) -> None:
        self.sqlite = sqlite
        self.postgresql = postgresql
        self.type = type_

    @property
    def _from_objects(self) -> list[Any]:
        return list(self.sqlite._from_objects)

    def get_children(self, **_kw: Any) -> list[ClauseElement]:
        return [self.sqlite]


@compiles(Either)
def _compile_either(element: Either, compiler: Any, **kw: Any) -> str:
    chosen = element.sqlite if compiler.dialect.name == "sqlite" else element.postgresql
    return str(compiler.process(chosen, **kw))


def sure(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """``condition`` with SQL's unknown (NULL) read as false, so ``NOT`` of it is exact."""
    return func.coalesce(condition, false(), type_=Boolean)


def boolean(*, sqlite: Any, postgresql: Any) -> ColumnElement[bool]:
    """A test spelt per dialect."""
    return Either(sqlite=sqlite, postgresql=postgresql, type_=Boolean())


class _Predicate(Either):
    """An :class:`Either` whose two spellings are predicates (comparisons, ``IN``): used as
    is in a ``WHERE``, without the ``= 1`` SQLite would otherwise get (which keeps a test off
    its index)."""

    inherit_cache = True

    def self_group(self, against: Any = None) -> Any:
        return self


def predicate(*, sqlite: Any, postgresql: Any) -> ColumnElement[bool]:
    """A predicate spelt per dialect (see :class:`_Predicate`)."""
    return _Predicate(sqlite=sqlite, postgresql=postgresql, type_=Boolean())
