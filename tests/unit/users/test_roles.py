"""Roles: a viewer reads, a marketer edits, an admin manages."""

from __future__ import annotations

import pytest

from lealta.users.roles import can


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        ("viewer", "read", True),
        ("viewer", "edit_contacts", False),
        ("marketer", "edit_contacts", True),
        ("marketer", "edit_workflows", True),
        ("marketer", "erase", False),
        ("marketer", "manage_users", False),
        ("admin", "erase", True),
        ("admin", "manage_keys", True),
        ("admin", "no such permission", False),
        ("owner", "read", False),
    ],
)
def test_what_each_role_may_do(role: str, permission: str, allowed: bool) -> None:
    assert can(role, permission) is allowed
