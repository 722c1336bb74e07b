"""The audit log page (admins): who changed what, newest first, filtered by user and action,
a page at a time (keyset on the entry id: page 500 costs what page 1 does)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from lealta.bootstrap import Services
from lealta.errors import InvalidInput
from lealta.users import service as users

PAGE = 50


def _before(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput("before must be an entry number from the previous page", field="before")
    return int(text)


def audit_context(services: Services, query: dict[str, str]) -> dict[str, Any]:
    """Everything ``audit.html`` shows for this query string (``user``, ``action``, ``before``)."""
    chosen = {k: query[k].strip() for k in ("user", "action") if query.get(k, "").strip()}
    context: dict[str, Any] = {"filters": chosen, "entries": [], "next_href": "", "problem": ""}
    with services.uow.transaction() as session:
        context["people"] = [u.email for u in users.list_users(session)]
        context["actions"] = users.audit_actions(session)
        try:
            before = _before(query.get("before", "").strip())
        except InvalidInput as problem:
            context["problem"] = str(problem)
            return context
        entries = users.list_audit(
            session,
            limit=PAGE + 1,
            before=before,
            user_email=chosen.get("user"),
            action=chosen.get("action"),
        )
        session.expunge_all()
    page = entries[:PAGE]
    if len(entries) > PAGE:
        context["next_href"] = f"/settings/audit?{urlencode({**chosen, 'before': page[-1].id})}"
    context.update(entries=page, paged=before is not None)
    return context
