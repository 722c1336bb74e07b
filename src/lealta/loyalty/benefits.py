"""What a tier gives its members, as data the shop's checkout can read. Pure.

Every benefit has a ``type`` and a ``code``: the checkout applies the benefit it knows by its
code (``GENIUS10`` → 10 % off), so codes are stable identifiers, not wording. The same code
may appear in several tiers only for the very same benefit::

    benefits:
      - {type: percent_discount, code: GENIUS10, percent: 10}
      - {type: free_shipping, code: FREESHIP, min_order: 30}
      - {type: early_access, code: EARLY48, hours: 48}
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, model_validator

Code = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=64,
        description="What the shop's checkout reads to apply the benefit.",
    ),
]
Amount = Annotated[FiniteFloat, Field(gt=0)]


def _type_required(schema: dict[str, Any]) -> None:
    """Publish ``type`` as required: documents must name it (Python callers may omit it)."""
    required = schema.setdefault("required", [])
    if "type" not in required:
        required.insert(0, "type")


class _Benefit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_type_required)

    code: Code
    description: str = Field(default="", max_length=500)


class PercentDiscount(_Benefit):
    """``percent`` off every order."""

    type: Literal["percent_discount"] = "percent_discount"
    percent: FiniteFloat = Field(gt=0, le=100)


class FixedDiscount(_Benefit):
    """``amount`` off an order of at least ``min_order`` (programme currency)."""

    type: Literal["fixed_discount"] = "fixed_discount"
    amount: Amount
    min_order: FiniteFloat = Field(default=0, ge=0)


class FreeShipping(_Benefit):
    """Shipping is free on orders of at least ``min_order``."""

    type: Literal["free_shipping"] = "free_shipping"
    min_order: FiniteFloat = Field(default=0, ge=0)


class ShippingDiscount(_Benefit):
    """Cheaper shipping: ``percent`` or ``amount`` off the shipping cost (one of them)."""

    type: Literal["shipping_discount"] = "shipping_discount"
    percent: FiniteFloat | None = Field(default=None, gt=0, lt=100)
    amount: Amount | None = None

    @model_validator(mode="after")
    def _one_of_percent_or_amount(self) -> Self:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("shipping_discount takes either percent or amount")
        return self


class EarlyAccess(_Benefit):
    """Sales open to members ``hours`` before everyone else."""

    type: Literal["early_access"] = "early_access"
    hours: int = Field(ge=1, le=24 * 90)


class ExclusiveOffers(_Benefit):
    """Offers only members of the tier see."""

    type: Literal["exclusive_offers"] = "exclusive_offers"


class Previews(_Benefit):
    """Previews of new products or collections."""

    type: Literal["previews"] = "previews"


class PrioritySupport(_Benefit):
    """Support answers members first."""

    type: Literal["priority_support"] = "priority_support"


class BirthdayGift(_Benefit):
    """A gift on the member's birthday; ``gift`` says what."""

    type: Literal["birthday_gift"] = "birthday_gift"
    gift: str = Field(min_length=1, max_length=200)


Benefit = Annotated[
    PercentDiscount
    | FixedDiscount
    | FreeShipping
    | ShippingDiscount
    | EarlyAccess
    | ExclusiveOffers
    | Previews
    | PrioritySupport
    | BirthdayGift,
    Field(discriminator="type"),
]
BenefitModel = (
    PercentDiscount
    | FixedDiscount
    | FreeShipping
    | ShippingDiscount
    | EarlyAccess
    | ExclusiveOffers
    | Previews
    | PrioritySupport
    | BirthdayGift
)
BENEFIT_TYPES = (
    "percent_discount",
    "fixed_discount",
    "free_shipping",
    "shipping_discount",
    "early_access",
    "exclusive_offers",
    "previews",
    "priority_support",
    "birthday_gift",
)
