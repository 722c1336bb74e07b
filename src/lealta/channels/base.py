"""The port every delivery channel implements, and what the dispatcher hands it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver one outbox message.

    ``recipient`` holds what the dispatcher looked up for the contact: the first identifier of
    each kind (``email``, ``phone``, ``user_id`` …) and the attributes templates use
    (``first_name``, ``last_name``, ``language``, ``timezone``) when set. ``attempt`` counts
    from 1; a delivery repeated after a crash keeps its ``idempotency_key``.

    ``content`` is the message rendered for this person from its template, by part: e-mail
    ``subject``, ``html``, ``text`` and extra ``headers`` (``List-Unsubscribe`` …); SMS
    ``text``; push ``title``, ``body``, ``url``, ``icon``, ``data``; webhook ``url`` and
    ``body``; on-site ``html``. Empty when the outbox row names no stored template (the
    channel then works from ``payload``).
    """

    outbox_id: int
    idempotency_key: str
    contact_id: str
    channel: str
    template: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    recipient: Mapping[str, Any] = field(default_factory=dict)
    attempt: int = 1
    content: Mapping[str, Any] = field(default_factory=dict)
    run_id: str | None = None


class Channel(Protocol):
    """A way to reach people (e-mail, SMS, push …).

    The contract:

    * ``send`` returns the provider's message id once the provider has accepted the message.
    * It raises :class:`lealta.errors.TransientChannelError` when trying again later may work
      (timeouts, rate limits, 5xx answers) and :class:`lealta.errors.PermanentChannelError`
      when it never will (invalid address, rejected content).
    * A ``delivery.idempotency_key`` seen before is treated as already sent, as far as the
      channel can tell: nothing goes out again and the first provider id is returned.
    * ``idempotent = True`` (optional attribute, default False) says the *provider* recognises
      a repeated key too (webhook receivers get it as ``Idempotency-Key``). Only such channels
      get a delivery again whose outcome a crash lost; for the others the dispatcher fails it
      as ``interrupted`` rather than risk a duplicate (see :mod:`lealta.channels.dispatcher`).
    * Optionally, ``requires_consent = False`` marks a channel that does not message the person
      (a webhook to the shop's own system): the dispatcher then skips the consent, quiet-hour
      and frequency-cap checks for it. Without the attribute, consent is required.
    """

    name: str

    def send(self, delivery: Delivery) -> str:
        """Deliver ``delivery``; the provider's message id."""
        ...
