"""Privacy endpoints: export everything held on a person, and erase them.

``DELETE /v1/contacts/{id}`` and ``POST /v1/contacts/{id}/erase`` do the same thing: see
:mod:`lealta.privacy.erase` for what is deleted, anonymised and kept.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy.orm import Session

from lealta.contacts.schemas import Erasure
from lealta.privacy.erase import erase_contact
from lealta.privacy.export import export_contact
from lealta.rest.auth import require_admin, services
from lealta.rest.contacts import ContactRoute
from lealta.storage.retry import in_transaction

router = APIRouter(
    prefix="/v1",
    tags=["privacy"],
    route_class=ContactRoute,
    dependencies=[Depends(require_admin)],
)

ContactId = Annotated[str, Path(description="The contact's id (a merged id leads to it).")]


@router.get(
    "/contacts/{contact_id}/export",
    summary="Export a contact",
    responses={
        200: {
            "description": "The export document (format `lealta.contact-export/1`), offered "
            "as a file download.",
            "content": {"application/json": {}},
        },
        410: {"description": "The contact was erased."},
    },
)
def export(request: Request, contact_id: ContactId) -> Response:
    """Everything held on the person, as one JSON document (GDPR access and portability):
    profile, identifiers, attributes, tags, lists, consents, events, orders, stage and score
    history, RFM."""
    now = services(request).clock.now()
    with services(request).uow.transaction() as session:
        document = export_contact(session, contact_id, now=now)
    name = f"lealta-contact-{document['contact']['id']}.json"
    return Response(
        orjson.dumps(document, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _erase(request: Request, contact_id: str) -> Erasure:
    now = services(request).clock.now()

    def work(session: Session) -> Erasure:
        return erase_contact(session, contact_id, now=now)

    return in_transaction(services(request).uow, work)


@router.delete("/contacts/{contact_id}", response_model=Erasure, summary="Erase a contact")
def delete_contact(request: Request, contact_id: ContactId) -> Erasure:
    """Erase the person (right to erasure): identifiers, tags, lists and attributes go,
    events are anonymised, orders and consent records stay without personal details. The
    id answers 410 afterwards; the e-mail address can start a new contact."""
    return _erase(request, contact_id)


@router.post(
    "/contacts/{contact_id}/erase", response_model=Erasure, summary="Erase a contact (POST)"
)
def erase(request: Request, contact_id: ContactId) -> Erasure:
    """The same as ``DELETE /v1/contacts/{id}``, for clients that cannot send DELETE."""
    return _erase(request, contact_id)
