"""RFM scores: a person's row as a scoring run leaves it (the console, audiences, workflows
and templates read it)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lealta.segmentation.tables import ContactRfm


def rfm(
    session: Session,
    contact_id: str,
    segment: str,
    *,
    at: dt.datetime,
    r: int = 5,
    f: int = 4,
    m: int = 4,
    recency_days: int = 3,
    frequency: int | None = None,
    monetary: float | None = None,
    cluster: int | None = None,
    cluster_name: str | None = None,
    computed_at: dt.datetime | None = None,
) -> ContactRfm:
    """``contact_id`` scored ``r``/``f``/``m`` (its code), in ``segment`` as of ``at``;
    ``frequency`` is ``f`` orders and ``monetary`` 40 per ``m`` point unless given;
    ``computed_at`` is when the row is written unless given."""
    row = ContactRfm(
        contact_id=contact_id,
        recency_days=recency_days,
        frequency=f if frequency is None else frequency,
        monetary=40.0 * m if monetary is None else monetary,
        payment=None,
        r=r,
        f=f,
        m=m,
        p=None,
        code=f"{r}{f}{m}",
        segment=segment,
        cluster=cluster,
        cluster_name=cluster_name,
        as_of=at,
    )
    if computed_at is not None:
        row.computed_at = computed_at
    session.add(row)
    return row
