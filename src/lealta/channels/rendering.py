"""Rendering what the dispatcher is about to send, a batch at a time, from stored templates.

Each message is rendered for its person at the moment it goes out (so it shows today's data
and the person's language), with tracked links, the open pixel and unsubscribe headers (see
:func:`lealta.messages.service.render_many`). A message whose template is missing or cannot be
rendered for that person fails with the reason. Webhook calls are not rendered: their body is
the workflow step's data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from lealta.channels.base import Delivery
from lealta.channels.dispatcher import Rendered, Renderer
from lealta.clock import Clock, SystemClock
from lealta.config import Settings

NOT_RENDERED = frozenset({"webhook"})


def renderer(settings: Settings, clock: Clock | None = None) -> Renderer:
    """The dispatcher's renderer for a deployment (``clock``: the moment templates see)."""
    clock = clock or SystemClock()

    def render(session: Session, deliveries: Sequence[Delivery]) -> Mapping[int, Rendered | str]:
        from lealta.messages.service import RenderRequest, render_many

        wanted = [d for d in deliveries if d.channel not in NOT_RENDERED]
        if not wanted:
            return {}
        done = render_many(
            session,
            settings,
            [RenderRequest(d.outbox_id, d.template, d.contact_id, dict(d.payload)) for d in wanted],
            now=clock.now(),
        )
        return {
            outbox_id: (result if isinstance(result, dict) else _reason(result))
            for outbox_id, result in done.items()
        }

    return render


def _reason(error: Exception) -> str:
    line = getattr(error, "line", None)
    part = getattr(error, "field", None)
    where = f" ({part}, line {line})" if part and line else f" ({part})" if part else ""
    return f"{error}{where}"
