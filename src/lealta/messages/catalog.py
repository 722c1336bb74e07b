"""Ready-made message templates shipped with Lealta, and reading template files.

The files in the package folder ``library/`` fill every send step of the shipped workflows
(``welcome``, ``cart-reminder-1``, ``reactivation-feedback`` …), each in English with an
Italian variant (``it``). They are ordinary template files: ``lealta templates install``
stores them all, installing a shipped workflow stores those it uses (see
:func:`lealta.automations.service.install`), ``lealta templates export`` writes one back for
editing.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from lealta.errors import NotFound
from lealta.messages.model import documents
from lealta.yaml_input import load_yaml

_FOLDER = "library"
_SUFFIX = ".yaml"


def _files() -> dict[str, Traversable]:
    folder = resources.files("lealta.messages").joinpath(_FOLDER)
    found = {
        entry.name.removesuffix(_SUFFIX): entry
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith(_SUFFIX)
    }
    return dict(sorted(found.items()))


def shipped_ids() -> list[str]:
    """The ids of the shipped templates, sorted."""
    return list(_files())


def shipped_text(template_id: str) -> str:
    """The YAML of shipped template ``template_id`` (comments included); NotFound if none."""
    found = _files().get(template_id)
    if found is None:
        raise NotFound(f"no shipped message template {template_id!r}")
    return found.read_text(encoding="utf-8")


def shipped() -> list[dict[str, Any]]:
    """Every shipped template as a document (``id``, ``channel``, ``description``, ``body``)."""
    return [doc for name in shipped_ids() for doc in read_documents(shipped_text(name))]


def read_documents(text: str) -> list[dict[str, Any]]:
    """The template documents in a YAML or JSON file's text (see
    :func:`lealta.messages.model.documents`).

    Raises
    ------
    InvalidInput
        When the text is not YAML/JSON (with the line) or not shaped like templates.
    """
    return documents(load_yaml(text, field="file"))
