"""The per-person data registry: every table about a person is covered, privacy and identity
reach other packages' rows only through it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import Table

import lealta
from lealta.contacts.schemas import Erasure
from lealta.persons.registry import PERSON_DATA, load, registry
from lealta.storage.tables import Base

SRC = Path(lealta.__file__).parent


def _about_a_person(table: Table) -> bool:
    return any(
        column.name == "contact_id"
        or any(key.column.table.name == "contacts" for key in column.foreign_keys)
        for column in table.columns
    )


def test_every_table_with_a_contact_column_is_registered() -> None:
    about = {name for name, table in Base.metadata.tables.items() if _about_a_person(table)}
    registered = {entry.table for entry in registry().rows}
    assert about - registered == set(), "add these tables to a person_data module"
    assert registered - set(Base.metadata.tables) == set()
    assert {"contacts", "events", "loyalty_points", "workflow_runs"} <= about


def test_every_registration_says_what_erasure_and_a_merge_do() -> None:
    for entry in registry().rows:
        assert entry.erased.strip(), entry.table
        assert entry.merged.strip(), entry.table


def test_the_erasure_counts_are_each_reported_by_one_table() -> None:
    reported = [e.reported_as for e in registry().rows if e.reported_as is not None]
    wanted = set(Erasure.model_fields) - {"contact_id", "erased_at"}
    assert sorted(reported) == sorted(wanted)


def test_the_export_keeps_its_sections_in_their_order() -> None:
    names = [name for name, _ in registry().sections()]
    assert names == [
        *("contact", "attributes", "merged_profiles", "identifiers", "tags", "lists"),
        *("consents", "events", "orders", "stage_history", "score_history", "rfm"),
        *("next_best", "predicted_value", "audiences", "loyalty_tier"),
        *("loyalty_tier_history", "loyalty_overrides", "loyalty_points"),
        *("workflow_runs", "messages", "vouchers"),
    ]


def test_a_table_registered_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="table registered twice: events"):
        load([*PERSON_DATA, "lealta.events.person_data"])


def _imported(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["privacy/erase.py", "privacy/export.py", "identity/service.py"])
def test_privacy_and_identity_import_no_other_package_s_tables(module: str) -> None:
    """Identity resolves identifiers to contacts: those two tables are its own business."""
    tables = {m for m in _imported(SRC / module) if m.endswith(".tables")}
    allowed = {"lealta.contacts.tables"} if module.startswith("identity") else set()
    assert tables <= allowed
