"""The lifecycle and lead-scoring rule sets, read and replaced as documents (JSON or YAML)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from lealta.rest.auth import Caller, require_admin, services
from lealta.rest.documents import JSON_OR_YAML, document_text
from lealta.rulesets import service
from lealta.scoring.service import recompute_all
from lealta.storage.retry import in_transaction

router = APIRouter(prefix="/v1/rules", tags=["rules"])
Kind = Literal["scoring", "lifecycle"]


class RuleSetOut(BaseModel):
    """A rule set in force."""

    name: str
    version: int = Field(description="0 while the shipped default is in force.")
    model: dict[str, Any]


def _current(request: Request, name: str) -> dict[str, Any]:
    with services(request).uow.transaction() as session:
        model: Any = (
            service.scoring_model(session)
            if name == service.SCORING
            else service.lifecycle_model(session)
        )
        return {
            "name": name,
            "version": service.version(session, name),
            "model": model.model_dump(mode="json"),
        }


@router.get("/{name}", response_model=RuleSetOut)
def read(name: Kind, request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, Any]:
    """The model in force (stored, or the shipped default)."""
    return _current(request, name)


@router.put(
    "/{name}",
    response_model=RuleSetOut,
    openapi_extra=JSON_OR_YAML,
)
async def replace(
    name: Kind, request: Request, _caller: Caller = Depends(require_admin)
) -> dict[str, Any]:
    """Replace the model (JSON, or YAML with ``Content-Type: application/yaml``).

    The whole document is validated first; a bad rule is refused with its name (400).
    Changing the scoring model does not rescore anyone until ``POST /v1/rules/scoring/recompute``.
    """
    from lealta.lifecycle.rules import load_model as load_lifecycle
    from lealta.scoring.rules import load_model as load_scoring

    text = await document_text(request)
    model: Any = load_scoring(text) if name == service.SCORING else load_lifecycle(text)
    found = services(request)
    now = found.clock.now()
    document = model.model_dump(mode="json")
    in_transaction(found.uow, lambda session: service.save(session, name, document, now=now))
    return _current(request, name)


@router.post("/scoring/recompute")
def recompute(request: Request, _caller: Caller = Depends(require_admin)) -> dict[str, int]:
    """Recompute every contact's score from their events under the rules in force."""
    found = services(request)

    def work(session: Any) -> int:
        return recompute_all(session, service.scoring_model(session))

    return {"recomputed": in_transaction(found.uow, work)}
