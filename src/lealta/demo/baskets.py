"""The products in a demo order: a main product of the order's category, often with products
that go with it (a T-shirt with trousers, sneakers with socks, shampoo with conditioner …).

The order export (:mod:`lealta.demo.orders`) has one category and a number of items per order;
:class:`BasketMaker` spreads those items over product lines, in the order the orders were
placed, so that it can also steer a customer's next order to what follows their last one
(trousers, then shoes weeks later). The lines' prices share the order's amount in proportion
to the products' list prices. Pure: the caller gives the seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Product:
    """One product of the demo catalogue."""

    sku: str
    name: str
    category: str
    price: float  # list price, for sharing an order's amount among its lines
    weight: float = 1.0  # how often it is an order's main product, within its category


PRODUCTS = (
    Product("APP-TSHIRT", "T-shirt", "Apparel", 19.0, 3.0),
    Product("APP-TROUSERS", "Trousers", "Apparel", 49.0, 2.0),
    Product("APP-JACKET", "Jacket", "Apparel", 89.0, 1.0),
    Product("APP-DRESS", "Dress", "Apparel", 59.0, 1.5),
    Product("APP-SOCKS", "Socks (3 pairs)", "Apparel", 12.0, 0.5),
    Product("SHO-SNEAKERS", "Sneakers", "Shoes", 79.0, 3.0),
    Product("SHO-BOOTS", "Boots", "Shoes", 119.0, 1.5),
    Product("SHO-SANDALS", "Sandals", "Shoes", 45.0, 1.0),
    Product("SHO-CARE", "Shoe care kit", "Shoes", 15.0, 0.3),
    Product("HOM-CUSHION", "Cushion", "Home", 25.0, 1.5),
    Product("HOM-CANDLE", "Scented candle", "Home", 18.0, 2.0),
    Product("HOM-THROW", "Throw blanket", "Home", 45.0, 1.0),
    Product("HOM-VASE", "Vase", "Home", 35.0, 1.0),
    Product("BEA-SHAMPOO", "Shampoo", "Beauty", 9.0, 2.0),
    Product("BEA-CONDITIONER", "Conditioner", "Beauty", 9.0, 0.7),
    Product("BEA-CREAM", "Face cream", "Beauty", 24.0, 1.5),
    Product("BEA-LIPSTICK", "Lipstick", "Beauty", 16.0, 1.0),
    Product("ELE-HEADPHONES", "Headphones", "Electronics", 99.0, 2.0),
    Product("ELE-WATCH", "Smart watch", "Electronics", 199.0, 1.0),
    Product("ELE-CASE", "Phone case", "Electronics", 19.0, 1.5),
    Product("ELE-CHARGER", "Charger", "Electronics", 25.0, 0.7),
    Product("OUT-APPAREL", "Outlet apparel", "Outlet", 15.0, 2.0),
    Product("OUT-SHOES", "Outlet shoes", "Outlet", 35.0, 1.0),
    Product("OUT-HOME", "Outlet home", "Outlet", 12.0, 1.0),
)

#: Products often bought with another, in the same order, and how often (each drawn apart).
GOES_WITH: dict[str, tuple[tuple[str, float], ...]] = {
    "APP-TSHIRT": (("APP-TROUSERS", 0.35), ("SHO-SNEAKERS", 0.15)),
    "APP-TROUSERS": (("APP-TSHIRT", 0.3), ("SHO-SNEAKERS", 0.2)),
    "APP-JACKET": (("SHO-BOOTS", 0.35),),
    "APP-DRESS": (("SHO-SANDALS", 0.45),),
    "SHO-SNEAKERS": (("APP-SOCKS", 0.6),),
    "SHO-BOOTS": (("APP-SOCKS", 0.4), ("SHO-CARE", 0.3)),
    "SHO-SANDALS": (("APP-DRESS", 0.3),),
    "HOM-THROW": (("HOM-CUSHION", 0.4),),
    "HOM-VASE": (("HOM-CANDLE", 0.25),),
    "HOM-CANDLE": (("BEA-CREAM", 0.45),),
    "BEA-SHAMPOO": (("BEA-CONDITIONER", 0.5),),
    "BEA-CREAM": (("HOM-CANDLE", 0.45), ("BEA-LIPSTICK", 0.15)),
    "BEA-LIPSTICK": (("BEA-CREAM", 0.2),),
    "OUT-SHOES": (("APP-SOCKS", 0.4),),
    "ELE-HEADPHONES": (("ELE-CHARGER", 0.3),),
    "ELE-WATCH": (("ELE-CHARGER", 0.35),),
    "ELE-CASE": (("ELE-CHARGER", 0.4),),
}

#: What a customer's next order often holds after a product (when the order's category fits).
COMES_NEXT: dict[str, str] = {
    "APP-TROUSERS": "SHO-SNEAKERS",
    "APP-JACKET": "SHO-BOOTS",
    "APP-DRESS": "SHO-SANDALS",
    "APP-TSHIRT": "SHO-SNEAKERS",
    "SHO-SNEAKERS": "APP-TSHIRT",
    "SHO-BOOTS": "APP-JACKET",
    "HOM-THROW": "BEA-CREAM",
    "BEA-CREAM": "HOM-CANDLE",
    "ELE-WATCH": "HOM-CUSHION",
    "ELE-HEADPHONES": "HOM-THROW",
}
_NEXT_SHARE = 0.6  # of the orders of the fitting category after such a product
_EXTRA_SHARE = 0.3  # of the orders with items left that hold another product of the category

BY_SKU = {product.sku: product for product in PRODUCTS}


@dataclass
class BasketMaker:
    """Product lines for one order after another, remembering each customer's last main product.

    Call :meth:`lines` in the order the orders were placed.
    """

    rng: np.random.Generator
    last: dict[str, str] = field(default_factory=dict)

    def lines(
        self, customer: str, category: str, items: int, amount: float
    ) -> list[dict[str, Any]]:
        """The order's lines (``product_id``, ``name``, ``category``, ``quantity``, ``price``):
        at most ``items`` products, quantities adding up to ``items``, sharing ``amount``."""
        main = self._main(customer, category)
        chosen = [main]
        for sku, share in GOES_WITH.get(main.sku, ()):
            if len(chosen) < items and self.rng.random() < share:
                chosen.append(BY_SKU[sku])
        if len(chosen) < items and self.rng.random() < _EXTRA_SHARE:
            others = [p for p in PRODUCTS if p.category == category and p not in chosen]
            if others:
                chosen.append(others[int(self.rng.integers(len(others)))])
        self.last[customer] = main.sku
        quantities = [1 + items - len(chosen)] + [1] * (len(chosen) - 1)
        return _priced(chosen, quantities, amount)

    def _main(self, customer: str, category: str) -> Product:
        after = COMES_NEXT.get(self.last.get(customer, ""))
        if after and BY_SKU[after].category == category and self.rng.random() < _NEXT_SHARE:
            return BY_SKU[after]
        candidates = [p for p in PRODUCTS if p.category == category]
        weights = np.array([p.weight for p in candidates])
        return candidates[int(self.rng.choice(len(candidates), p=weights / weights.sum()))]


def _priced(products: list[Product], quantities: list[int], amount: float) -> list[dict[str, Any]]:
    """Lines whose unit prices share ``amount`` in proportion to the products' list prices."""
    listed = sum(p.price * q for p, q in zip(products, quantities, strict=True))
    lines = []
    for product, quantity in zip(products, quantities, strict=True):
        lines.append(
            {
                "product_id": product.sku,
                "name": product.name,
                "category": product.category,
                "quantity": quantity,
                "price": round(amount * product.price / listed, 2),
            }
        )
    return lines
