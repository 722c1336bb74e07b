"""The ``contact_predictions`` table: each contact's latest predicted value and churn risk."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from lealta.storage.base import Base

BAND_LENGTH = 8
VERSION_LENGTH = 16


class ContactPrediction(Base):
    """The latest ``clv`` run's prediction for one contact (see :mod:`lealta.prediction.store`).

    ``p_alive`` is the BG/NBD probability that the customer has not churned,
    ``expected_purchases`` and ``expected_spend`` cover ``horizon_days`` from the run's day,
    ``clv`` is the value over that horizon (discounted as the run asked), ``churn_band`` one
    of :data:`lealta.prediction.bands.BANDS`; ``params_version`` names the fitted parameters
    (a digest of their JSON) so rows from one fit can be told apart from another's.
    """

    __tablename__ = "contact_predictions"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    p_alive: Mapped[float] = mapped_column(index=True)  # "P(alive) below 0.3" reads it
    expected_purchases: Mapped[float]
    expected_spend: Mapped[float]
    clv: Mapped[float] = mapped_column(index=True)
    churn_band: Mapped[str] = mapped_column(String(BAND_LENGTH), index=True)
    horizon_days: Mapped[int]
    params_version: Mapped[str] = mapped_column(String(VERSION_LENGTH))
    computed_at: Mapped[dt.datetime]
