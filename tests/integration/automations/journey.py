"""A workflow with runs and messages in a real database, for the stats, runs and timeline tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lealta.automations import service
from lealta.automations.runner import advance_all
from lealta.bootstrap import Services
from tests.factories import contacts
from tests.factories.contacts import granted

WELCOME = """
id: welcome
name: Welcome
trigger: {type: manual}
steps:
  - {id: hello, type: send, channel: email, template: welcome}
  - {id: pause, type: wait, duration: 2d}
  - {id: tip, type: send, channel: email, template: tip}
"""


def person(
    services: Services,
    identifiers: dict[str, str],
    *,
    consent: bool = True,
    **attributes: Any,
) -> str:
    """A contact with these identifiers and attributes (and e-mail consent); its id."""
    consents = granted("email") if consent else {}
    with services.uow.transaction() as session:
        found = contacts.person(
            session,
            services.clock.now(),
            identifiers=identifiers,
            consents=consents,
            attributes=attributes,
        )
        return found.id


def active_workflow(services: Services, text: str = WELCOME) -> str:
    """Store ``text`` and make it active (its templates are not the point here)."""
    now = services.clock.now()
    with services.uow.transaction() as session:
        saved = service.save(session, text, now=now)
        service.get(session, saved.workflow_id).status = "active"
        return saved.workflow_id


def enrol(services: Services, workflow_id: str, contact_id: str, key: str = "k") -> str:
    """Enrol ``contact_id`` and take the run's first steps; the run's id."""
    now = services.clock.now()
    with services.uow.transaction() as session:
        workflow = service.get(session, workflow_id)
        rules = service.definition(session, workflow_id)
        run = service.enroll(session, workflow, rules, contact_id, entry_key=key, now=now)
    assert run is not None
    advance_all(services)
    return run


def at(services: Services) -> dt.datetime:
    return services.clock.now()
