"""A channel that delivers nothing and remembers everything: for tests and simulations."""

from __future__ import annotations

import threading

from lealta.channels.base import Delivery
from lealta.errors import PermanentChannelError, TransientChannelError


class RecordingChannel:
    """Records deliveries in memory, honouring idempotency keys like a real provider.

    ``deliveries`` holds each accepted delivery once; a repeated idempotency key is answered
    with the first provider id and counted in ``repeats`` instead. ``calls`` counts every call
    to :meth:`send`, failures included. Safe to share between threads. With
    ``requires_consent=False`` it stands for a channel that does not message the person
    (a webhook).
    """

    idempotent = True  # like a provider that recognises repeated idempotency keys

    def __init__(self, name: str = "email", *, requires_consent: bool = True) -> None:
        self.name = name
        self.requires_consent = requires_consent
        self.deliveries: list[Delivery] = []
        self.repeats = 0
        self.calls = 0
        self._ids: dict[str, str] = {}
        self._transient = 0
        self._transient_reason = ""
        self._permanent: dict[str, str] = {}
        self._lock = threading.Lock()

    def fail_transiently(self, times: int = 1, reason: str = "provider unavailable") -> None:
        """Make the next ``times`` sends raise :class:`TransientChannelError`."""
        with self._lock:
            self._transient = times
            self._transient_reason = reason

    def fail_permanently(self, template: str, reason: str = "rejected by provider") -> None:
        """Make every send of ``template`` raise :class:`PermanentChannelError`."""
        with self._lock:
            self._permanent[template] = reason

    def send(self, delivery: Delivery) -> str:
        """Record ``delivery``; the provider id (the first one again for a repeated key)."""
        with self._lock:
            self.calls += 1
            known = self._ids.get(delivery.idempotency_key)
            if known is not None:
                self.repeats += 1
                return known
            if self._transient > 0:
                self._transient -= 1
                raise TransientChannelError(self._transient_reason)
            if delivery.template in self._permanent:
                raise PermanentChannelError(self._permanent[delivery.template])
            provider_id = f"{self.name}-{len(self.deliveries) + 1}"
            self._ids[delivery.idempotency_key] = provider_id
            self.deliveries.append(delivery)
            return provider_id

    def keys(self) -> list[str]:
        """The idempotency keys delivered, in order."""
        with self._lock:
            return [d.idempotency_key for d in self.deliveries]

    def to(self, contact_id: str) -> list[Delivery]:
        """The deliveries to one contact, in order."""
        with self._lock:
            return [d for d in self.deliveries if d.contact_id == contact_id]
