"""``/v1/lists``: static lists people subscribe to (newsletters, waiting lists …)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from lealta.contacts import service
from lealta.contacts.schemas import ListIn, ListOut
from lealta.rest.auth import require_admin, services
from lealta.rest.contacts import ContactRoute
from lealta.storage.retry import in_transaction

router = APIRouter(
    prefix="/v1",
    tags=["contacts"],
    route_class=ContactRoute,
    dependencies=[Depends(require_admin)],
)


@router.post("/lists", response_model=ListOut, status_code=201)
def create_list(request: Request, body: ListIn) -> ListOut:
    """Create a list; a slug in use answers 409. With ``double_opt_in``, new members stay
    ``pending`` until they confirm."""
    now = services(request).clock.now()

    def work(session: Session) -> ListOut:
        created = service.create_list(session, body, now=now)
        return next(row for row in service.list_lists(session) if row.slug == created.slug)

    return in_transaction(services(request).uow, work)


@router.get("/lists", response_model=list[ListOut])
def list_lists(request: Request) -> list[ListOut]:
    """Every list with its member counts by status."""
    with services(request).uow.transaction() as session:
        return service.list_lists(session)
