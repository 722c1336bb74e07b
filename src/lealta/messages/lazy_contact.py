"""``contact.next_best`` and ``contact.prediction``, read for a render batch only when used.

Most templates never mention a contact's next-best items or predicted value, so
:func:`lealta.messages.context.contexts_for` does not read them up front: the first template
of a batch that reaches for one of them reads it for every contact of the batch at once (one
query each), and a batch whose templates do not pays nothing. What the template sees is the
same as an eager read: ``next_best`` a list (empty before the first next-best run),
``prediction`` a mapping or ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

Loader = Callable[[Session, Sequence[str]], dict[str, Any]]


def _next_best(session: Session, ids: Sequence[str]) -> dict[str, Any]:
    from lealta.affinity.store import next_best_of

    return next_best_of(session, ids)


def _predictions(session: Session, ids: Sequence[str]) -> dict[str, Any]:
    from lealta.prediction.store import predictions_of

    return predictions_of(session, ids)


# Each lazy key, how a batch reads it, and what a contact without a row gets.
LAZY: dict[str, tuple[Loader, Callable[[], Any]]] = {
    "next_best": (_next_best, list),
    "prediction": (_predictions, lambda: None),
}


class BatchReads:
    """The lazy keys of one batch's contacts, each read once, on first use, for all of them."""

    def __init__(self, session: Session, ids: Sequence[str]) -> None:
        self.session = session
        self.ids = list(ids)
        self.found: dict[str, dict[str, Any]] = {}

    def value(self, key: str, contact_id: str) -> Any:
        """``key`` (one of :data:`LAZY`) of ``contact_id``."""
        load, empty = LAZY[key]
        if key not in self.found:
            self.found[key] = load(self.session, self.ids)
        found = self.found[key].get(contact_id)
        return empty() if found is None else found


class LazyContact(dict[str, Any]):
    """A contact's template values; the :data:`LAZY` keys are asked of its batch on first read
    (``contact.prediction``, ``contact["next_best"]``, ``contact.get("prediction")``)."""

    def __init__(self, values: dict[str, Any], batch: BatchReads, contact_id: str) -> None:
        super().__init__(values)
        self._batch = batch
        self._contact_id = contact_id

    def __missing__(self, key: str) -> Any:
        if key not in LAZY:
            raise KeyError(key)
        value = self._batch.value(key, self._contact_id)
        self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return key in LAZY or super().__contains__(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` (lazy keys read then), else ``default``."""
        try:
            return self[key]
        except KeyError:
            return default
