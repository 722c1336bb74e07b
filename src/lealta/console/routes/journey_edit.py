"""Editing a journey without YAML (``/journeys/{id}/edit``) and with it (``/journeys/{id}/yaml``).

Both edit the same versioned definition: saving makes a new version through the same service as
the API, and runs under way stay on the version they started with. Marketers and admins only
(``edit_workflows``); every change carries the CSRF token and is audited. The editor's structural
buttons (insert, delete, branches) re-show the draft without saving; htmx swaps just the editor
when it runs, a plain POST re-shows the page when it does not.
"""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from lealta.automations import editing
from lealta.automations.editing import Problem
from lealta.console import journey_edits
from lealta.console.auth import Refused, SignedIn, signed_in
from lealta.console.journey_edit_form import condition_op
from lealta.console.journey_edit_page import (
    arm_words,
    edit_context,
    input_id,
    outline,
    read_form,
    step_view,
)
from lealta.console.journey_yaml import as_mapping, to_yaml, with_lines
from lealta.console.rendering import checked_form, render, services_of
from lealta.errors import Conflict, InvalidInput, NotFound
from lealta.yaml_input import load_yaml

router = APIRouter(include_in_schema=False)
PERMISSION = "edit_workflows"
MAX_DRAFT = 1_000_000


def _journey(request: Request, workflow_id: str) -> journey_edits.Journey | None:
    try:
        return journey_edits.load(services_of(request), workflow_id)
    except NotFound:
        return None


def _missing(request: Request, user: SignedIn, workflow_id: str) -> HTMLResponse:
    return render(
        request, "journey_edit_missing.html", user=user, status=404, workflow_id=workflow_id
    )


def _edit_page(
    request: Request,
    user: SignedIn,
    journey: journey_edits.Journey,
    document: dict[str, Any],
    *,
    base: int,
    status: int = 200,
    found: list[Problem] | None = None,
    notice: str = "",
    refusal: str = "",
    draft: bool = False,
) -> HTMLResponse:
    context = edit_context(document, templates=journey.templates, found=found)
    context["input_id"] = input_id
    return render(
        request,
        "journey_edit.html",
        user=user,
        status=status,
        journey=journey,
        base=base,
        draft_json=orjson.dumps(document).decode(),
        notice=notice,
        refusal=refusal,
        unsaved=draft,
        **context,
    )


@router.get("/journeys/{workflow_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """The journey's trigger, entry rules, goal and steps as forms."""
    _require(user)
    journey = _journey(request, workflow_id)
    if journey is None:
        return _missing(request, user, workflow_id)
    return _edit_page(
        request,
        user,
        journey,
        journey.document,
        base=journey.version,
        notice=_saved_notice(request),
    )


def _require(user: SignedIn) -> None:
    if not user.can(PERMISSION):
        raise Refused(f"only marketers and admins can edit journeys; you are a {user.role}")


def _saved_notice(request: Request) -> str:
    saved = request.query_params.get("saved", "")
    if saved.isdigit():
        return (
            f"Saved as version {saved}. Runs already under way stay on the version they "
            "started with; new runs start on this one."
        )
    if request.query_params.get("unchanged"):
        return "Nothing changed, so no new version was made."
    return ""


def _draft(form: FormData) -> dict[str, Any]:
    text = str(form.get("draft", ""))
    if len(text) > MAX_DRAFT:
        raise InvalidInput("the journey is too large to edit here: use the YAML", field="draft")
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidInput(
            "the editor's draft was damaged: reload the page", field="draft"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(
            "the editor's draft was damaged: reload the page", field="draft"
        ) from None
    return data


def _base(form: FormData) -> int:
    text = str(form.get("base", ""))
    if not text.isdigit():
        raise InvalidInput("the editor's version was damaged: reload the page", field="base")
    return int(text)


@router.post("/journeys/{workflow_id}/edit", response_class=HTMLResponse)
async def edit_post(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Save the edited journey as a new version, or apply an insert/delete/branch button."""
    form = await checked_form(request, user, PERMISSION)
    journey = await run_in_threadpool(_journey, request, workflow_id)
    if journey is None:
        return _missing(request, user, workflow_id)
    fields = {key: str(value) for key, value in form.items()}
    try:
        draft, base = _draft(form), _base(form)
    except InvalidInput as exc:
        return _edit_page(
            request,
            user,
            journey,
            journey.document,
            base=journey.version,
            status=422,
            refusal=str(exc),
        )
    document = read_form({**draft, "id": workflow_id}, fields)
    op = fields.get("op", "save")
    if op != "save":
        try:
            document = _apply(document, op, fields)
        except InvalidInput as exc:
            return _edit_page(
                request, user, journey, document, base=base, refusal=str(exc), draft=True
            )
        except (ValueError, IndexError, KeyError):
            return _edit_page(
                request,
                user,
                journey,
                document,
                base=base,
                draft=True,
                refusal="That button no longer applies to this draft.",
            )
        return _edit_page(request, user, journey, document, base=base, draft=True)
    found = editing.problems(document)
    if found:
        return _edit_page(
            request, user, journey, document, base=base, status=422, found=found, draft=True
        )
    try:
        saved = await run_in_threadpool(
            journey_edits.save_journey,
            services_of(request),
            user,
            workflow_id,
            document,
            base_version=base,
            via="form",
        )
    except InvalidInput as exc:  # a check made on saving (e.g. a tier the programme lacks)
        found = [editing.placed(str(exc))]
        return _edit_page(
            request, user, journey, document, base=base, status=422, found=found, draft=True
        )
    except Conflict as exc:
        refusal = (
            f"Not saved: {exc}. Open the latest version to see it, or press Save again "
            "to save yours over it."
        )
        return _edit_page(
            request,
            user,
            journey,
            document,
            base=journey.version,
            status=409,
            refusal=refusal,
            draft=True,
        )
    query = f"saved={saved.version}" if saved.changed else "unchanged=1"
    return RedirectResponse(f"/journeys/{quote(workflow_id, safe='')}/edit?{query}", 303)


def _apply(document: dict[str, Any], op: str, form: dict[str, str]) -> dict[str, Any]:
    """A structural button: ``insert|after|ID``, ``insert|branch|ID|LABEL``, ``insert|start``,
    ``delete|ID[|LABEL]``, ``addbranch|ID``, ``rmbranch|ID|NAME``, ``cond-add|PREFIX``,
    ``cond-del|PREFIX`` or ``refresh`` (show the fields of a newly chosen kind)."""
    verb, *args = op.split("|")
    if verb == "insert":
        where = args[0] if args else "start"
        if where == "after" and len(args) == 2:
            kind = form.get(f"ins.{args[1]}", "wait")
            return editing.insert_step(document, kind, after=args[1])[0]
        if where == "branch" and len(args) == 3:
            kind = form.get(f"ins.{args[1]}.{args[2]}", "wait")
            return editing.insert_step(document, kind, branch=(args[1], args[2]))[0]
        return editing.insert_step(document, form.get("ins.start", "wait"))[0]
    if verb == "delete" and args:
        return editing.delete_step(document, args[0], keep=args[1] if len(args) > 1 else None)
    if verb == "addbranch" and args:
        return _add_branch(document, args[0])
    if verb == "rmbranch" and len(args) == 2:
        return editing.remove_branch(document, args[0], args[1])
    if verb in ("cond-add", "cond-del") and args:
        return condition_op(document, args[0], add=verb == "cond-add")
    return document


def _add_branch(document: dict[str, Any], split_id: str) -> dict[str, Any]:
    step = document["steps"][editing.position(document, split_id)]
    branches = step.get("branches") or []
    used = {b.get("name") for b in branches}
    name = next((c for c in string.ascii_uppercase if c not in used), f"B{len(branches) + 1}")
    target = str(branches[0].get("next")) if branches else str(split_id)
    return editing.add_branch(document, split_id, name, 0, target)


# -- YAML ----------------------------------------------------------------------------------


def _yaml_page(
    request: Request,
    user: SignedIn,
    journey: journey_edits.Journey,
    text: str,
    *,
    status: int = 200,
    problems: list[dict[str, Any]] | None = None,
    notice: str = "",
) -> HTMLResponse:
    main, rest = outline(journey.document)

    def attach(nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            node["view"] = step_view(node["step"], journey.templates)
            for arm in node["arms"]:
                arm["words"] = arm_words(node["step"], arm["label"])
                attach(arm["nodes"])

    attach(main)
    attach(rest)
    return render(
        request,
        "journey_edit_yaml.html",
        user=user,
        status=status,
        journey=journey,
        text=text,
        problems=problems or [],
        notice=notice,
        outline=main,
        unreached=rest,
    )


@router.get("/journeys/{workflow_id}/yaml", response_class=HTMLResponse)
def yaml_page(request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)) -> Response:
    """The latest version's YAML beside a read-only outline."""
    _require(user)
    journey = _journey(request, workflow_id)
    if journey is None:
        return _missing(request, user, workflow_id)
    return _yaml_page(
        request, user, journey, to_yaml(journey.definition), notice=_saved_notice(request)
    )


@router.post("/journeys/{workflow_id}/yaml", response_class=HTMLResponse)
async def yaml_post(
    request: Request, workflow_id: str, user: SignedIn = Depends(signed_in)
) -> Response:
    """Save the YAML as a new version, or show its problems with their lines."""
    form = await checked_form(request, user, PERMISSION)
    journey = await run_in_threadpool(_journey, request, workflow_id)
    if journey is None:
        return _missing(request, user, workflow_id)
    text = str(form.get("yaml", ""))
    try:
        base = _base(form)
        data = as_mapping(load_yaml(text, field="yaml"))
        if data is None:
            raise InvalidInput("the YAML must describe a journey: id, name, trigger, steps …")
    except InvalidInput as exc:
        found = [{"problem": Problem("journey", None, str(exc)), "line": exc.line}]
        return _yaml_page(request, user, journey, text, status=422, problems=found)
    if data.get("id", workflow_id) != workflow_id:
        message = (
            f"this is journey {workflow_id!r}: its id cannot change here (import the "
            "YAML as a new journey instead)"
        )
        found = with_lines(text, [Problem("journey", "id", message)])
        return _yaml_page(request, user, journey, text, status=422, problems=found)
    document = {**data, "id": workflow_id}
    problems = editing.problems(document)
    if problems:
        return _yaml_page(
            request, user, journey, text, status=422, problems=with_lines(text, problems)
        )
    try:
        saved = await run_in_threadpool(
            journey_edits.save_journey,
            services_of(request),
            user,
            workflow_id,
            document,
            base_version=base,
            via="yaml",
        )
    except InvalidInput as exc:  # a check made on saving (e.g. a tier the programme lacks)
        found_on_save = with_lines(text, [editing.placed(str(exc))])
        return _yaml_page(request, user, journey, text, status=422, problems=found_on_save)
    except Conflict as exc:
        found = [
            {
                "problem": Problem(
                    "journey",
                    None,
                    f"Not saved: {exc}. Copy your text, "
                    "reload, and apply it to the latest version.",
                ),
                "line": None,
            }
        ]
        return _yaml_page(request, user, journey, text, status=409, problems=found)
    query = f"saved={saved.version}" if saved.changed else "unchanged=1"
    return RedirectResponse(f"/journeys/{quote(workflow_id, safe='')}/yaml?{query}", 303)
