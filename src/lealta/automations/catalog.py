"""Ready-made workflow templates shipped with Lealta (abandoned cart, welcome series, …).

Each template is a YAML definition in the package folder ``templates/``, named after its id
(``abandoned-cart.yaml``), with a ``description`` written for marketers. Importing one as it is
gives a working workflow; most people copy it and change the message templates, vouchers and
waits first. The files ship inside the wheel and are read with :mod:`importlib.resources`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from lealta.automations.definition import WorkflowDefinition, load_definition
from lealta.errors import InvalidInput, NotFound

_FOLDER = "templates"
_SUFFIX = ".yaml"


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """One template: its workflow ``id`` and ``name``, the marketer-facing ``description``, and
    ``path``, where the YAML file is (a file-system path for a normal installation)."""

    id: str
    name: str
    description: str
    path: str


def _folder() -> Traversable:
    return resources.files("lealta.automations").joinpath(_FOLDER)


def _files() -> dict[str, Traversable]:
    """The template files by id (the file name without ``.yaml``), sorted by id."""
    found = {
        entry.name.removesuffix(_SUFFIX): entry
        for entry in _folder().iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    }
    return dict(sorted(found.items()))


def _file(template_id: str) -> Traversable:
    found = _files().get(template_id)
    if found is None:
        raise NotFound(f"no workflow template {template_id!r}")
    return found


def template_text(template_id: str) -> str:
    """The YAML text of template ``template_id``, comments included (to copy and edit).

    Raises
    ------
    NotFound
        When there is no such template.
    """
    return _file(template_id).read_text("utf-8")


def load_template(template_id: str) -> WorkflowDefinition:
    """The validated definition of template ``template_id``; its id is ``template_id``.

    Raises
    ------
    NotFound
        When there is no such template.
    InvalidInput
        When the shipped file is not a valid definition of that id (a packaging bug).
    """
    definition = load_definition(template_text(template_id))
    if definition.id != template_id:
        raise InvalidInput(
            f"template file {template_id}{_SUFFIX} defines workflow {definition.id!r}",
            field="id",
        )
    return definition


def templates() -> list[TemplateInfo]:
    """Every shipped template, sorted by id."""
    result = []
    for template_id, file in _files().items():
        definition = load_template(template_id)
        result.append(
            TemplateInfo(definition.id, definition.name, definition.description, str(file))
        )
    return result
