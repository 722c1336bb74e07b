"""Console roles and what each may do. Pure.

=========  =================================================================================
role       may
=========  =================================================================================
viewer     read every page
marketer   also edit contacts (attributes, tags, lists, consent), segments and workflows
admin      also manage console users, API keys, channel settings, and export or erase a person
=========  =================================================================================
"""

from __future__ import annotations

from typing import Literal

Role = Literal["viewer", "marketer", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "marketer", "admin")

# Each permission names the least role that holds it (roles are ordered: viewer < marketer < admin).
PERMISSIONS: dict[str, Role] = {
    "read": "viewer",
    "edit_contacts": "marketer",
    "edit_segments": "marketer",
    "edit_workflows": "marketer",
    "manage_users": "admin",
    "manage_keys": "admin",
    "manage_channels": "admin",
    "erase": "admin",
    "export": "admin",
    "read_audit": "admin",
}


def can(role: str, permission: str) -> bool:
    """True when ``role`` holds ``permission`` (unknown roles and permissions hold nothing)."""
    least = PERMISSIONS.get(permission)
    if least is None or role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(least)
