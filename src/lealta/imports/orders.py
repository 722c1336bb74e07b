"""Order rows as ``Order Completed`` messages (pure, stateful across chunks).

Two shapes of file are understood:

* **order level** (an amount column, no quantity/price/product columns): one row per order.
* **line level** (quantity, price or product columns, e.g. UCI Online Retail): one row per
  order line. Consecutive rows with the same order id are one order; its amount is the sum of
  the lines' amounts (the amount column, else price x quantity) and its items are the lines.

A row with a problem rejects its whole order: the other lines of that order are reported too
("order X not imported: line N was rejected"), so an order never arrives with lines missing.
An order id seen again later in the file is skipped when its content is the same, and rejected
(naming the first line) when it differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from lealta.errors import InvalidInput
from lealta.imports import values as v
from lealta.imports.files import Row
from lealta.imports.messages import Customer, check_customer, content_hash, order_message
from lealta.imports.outcomes import Outcome, Ready, unreadable
from lealta.imports.rejects import Rejection
from lealta.orders.records import Item, parse_order
from lealta.tracking.messages import MAX_MESSAGE_BYTES

# Room left in a message for what normalisation adds (receivedAt, originalTimestamp …).
_HEADROOM = 2048
_IDENTIFIERS = ("user_id", "email", "phone", "anonymous_id")


@dataclass(frozen=True)
class OrderSettings:
    """How to read order rows."""

    currency: str = "EUR"
    date_format: str | None = None
    region: str = "ES"
    line_level: bool | None = None  # None: decided from the columns


@dataclass
class _Line:
    row: Row
    customer: Customer
    placed_at: Any
    amount: Decimal
    item: Item | None


def is_line_level(mapping: Mapping[str, str]) -> bool:
    """Whether rows are order lines: quantity, price or product columns are present."""
    return any(role in mapping for role in ("quantity", "price", "sku", "item_name"))


class OrderRows:
    """Turns rows into orders; feed chunks in file order, then :meth:`finish`."""

    def __init__(self, mapping: Mapping[str, str], settings: OrderSettings) -> None:
        self.mapping = dict(mapping)
        self.settings = settings
        self.line_level = (
            is_line_level(mapping) if settings.line_level is None else settings.line_level
        )
        self.duplicates = 0
        self._group: list[Row] = []
        self._group_id: str | None = None
        self._seen: dict[str, tuple[str, int]] = {}
        self._held: list[Rejection] = []

    @property
    def fields(self) -> dict[str, str]:
        """Message field → file column, to name columns in the pipeline's errors."""
        known = {"id": self.mapping["order"], "placed_at": self.mapping["date"]}
        return {**known, **self.mapping}

    def feed(self, rows: list[Row]) -> list[Outcome]:
        """Outcomes of the orders completed by ``rows`` (the last one may stay open)."""
        out: list[Outcome] = []
        for row in rows:
            if row.problem:
                out.append(unreadable(row))
                continue
            order_id = v.text(row.values.get(self.mapping["order"]))
            if order_id is None:
                missing = Rejection(row.line, self.mapping["order"], "missing order id", row.values)
                # Reported after the open order, so that rejections come in line order.
                (self._held if self._group else out).append(missing)
                continue
            if self._group and order_id != self._group_id:
                out.extend(self._flush())
            self._group.append(row)
            self._group_id = order_id
            if not self.line_level:
                out.extend(self._flush())
        return out

    def finish(self) -> list[Outcome]:
        """Outcomes of the last order."""
        return self._flush() if self._group else []

    # -- one order ----------------------------------------------------------------------

    def _flush(self) -> list[Outcome]:
        held, self._held = self._held, []
        return [*self._order(), *held]

    def _order(self) -> list[Outcome]:
        rows, order_id = self._group, self._group_id
        self._group, self._group_id = [], None
        assert order_id is not None
        lines: list[_Line] = []
        bad: list[Rejection] = []
        for row in rows:
            try:
                lines.append(self._line(row))
            except InvalidInput as error:
                bad.append(Rejection(row.line, error.field or "", str(error), row.values))
        if bad:
            return [*bad, *self._others(rows, bad, order_id)]
        try:
            message = self._message(order_id, lines)
        except InvalidInput as error:
            where = self.fields.get(error.field or "", error.field or "")
            return [Rejection(r.line, where, str(error), r.values) for r in rows]
        return self._unless_duplicate(order_id, message, rows)

    def _others(self, rows: list[Row], bad: list[Rejection], order_id: str) -> list[Rejection]:
        first = bad[0].line
        failed = {b.line for b in bad}
        reason = f"order {order_id} not imported: line {first} was rejected"
        return [
            Rejection(r.line, self.mapping["order"], reason, r.values)
            for r in rows
            if r.line not in failed
        ]

    def _unless_duplicate(
        self, order_id: str, message: dict[str, Any], rows: list[Row]
    ) -> list[Outcome]:
        digest = content_hash(message, 16)
        seen = self._seen.get(order_id)
        if seen is None:
            self._seen[order_id] = (digest, rows[0].line)
            return [_fitted(message, rows)]
        if seen[0] == digest:
            self.duplicates += len(rows)
            return []
        reason = f"order id {order_id!r} already appears on line {seen[1]} with different content"
        return [Rejection(r.line, self.mapping["order"], reason, r.values) for r in rows]

    def _message(self, order_id: str, lines: list[_Line]) -> dict[str, Any]:
        first = lines[0]
        for line in lines[1:]:
            if line.customer != first.customer:
                raise InvalidInput(
                    f"the lines of order {order_id} name different customers "
                    f"(line {first.row.line} and line {line.row.line})",
                    field=self._identifier_column(),
                )
        cells = first.row.values
        get = self.mapping.get
        fmt = self.settings.date_format
        values: dict[str, Any] = {
            "id": order_id,
            "placed_at": min(line.placed_at for line in lines),
            "amount": sum((line.amount for line in lines), Decimal(0)),
            "currency": v.text(cells.get(get("currency", ""))) or self.settings.currency,
            "items": [line.item for line in lines if line.item is not None],
            "channel": v.text(cells.get(get("channel", ""))),
            "payment_method": v.text(cells.get(get("payment_method", ""))),
            "due_date": v.day(cells.get(get("due_date", "")), get("due_date", ""), fmt),
            "paid_date": v.day(cells.get(get("paid_date", "")), get("paid_date", ""), fmt),
        }
        order = parse_order({k: value for k, value in values.items() if value is not None})
        return order_message(first.customer, order)

    def _line(self, row: Row) -> _Line:
        cells, get = row.values, self.mapping.get
        customer = self._customer(cells)
        date_col = self.mapping["date"]
        placed_at = v.moment(cells.get(date_col), date_col, self.settings.date_format)
        if placed_at is None:
            raise InvalidInput("missing date", field=date_col)
        quantity = self._quantity(cells)
        price = v.number(cells.get(get("price", "")), get("price", "price"))
        if price is not None and price < 0:
            raise InvalidInput(f"unit price {price} is negative", field=get("price", "price"))
        amount = v.amount(cells.get(get("amount", "")), get("amount", "amount"))
        if amount is None and price is not None and self.line_level:
            amount = v.amount(price * (quantity if quantity is not None else 1), get("price", ""))
        if amount is None:
            raise InvalidInput("missing amount", field=get("amount") or get("price") or "amount")
        item = self._item(cells, price, quantity) if self.line_level else None
        return _Line(row, customer, placed_at, amount, item)

    def _quantity(self, cells: Mapping[str, Any]) -> int | None:
        col = self.mapping.get("quantity")
        if col is None:
            return None
        quantity = v.whole(cells.get(col), col)
        if quantity is not None and quantity < 0:
            raise InvalidInput(
                f"quantity {quantity} is negative (a return or cancellation, not an order)",
                field=col,
            )
        return quantity

    def _item(self, cells: Mapping[str, Any], price: Decimal | None, quantity: int | None) -> Item:
        get = self.mapping.get
        return Item(
            sku=v.text(cells.get(get("sku", ""))),
            name=v.text(cells.get(get("item_name", ""))),
            category=v.text(cells.get(get("category", ""))),
            price=price,
            quantity=quantity if quantity is not None else 1,
        )

    def _customer(self, cells: Mapping[str, Any]) -> Customer:
        given = {r: v.text(cells.get(self.mapping[r])) for r in _IDENTIFIERS if r in self.mapping}
        try:
            return check_customer(**given, region=self.settings.region)
        except InvalidInput as error:
            if not any(given.values()):
                raise InvalidInput(
                    "missing customer identifier", field=self._identifier_column()
                ) from None
            col = self.mapping.get(error.field or "") or self._identifier_column()
            raise InvalidInput(str(error), field=col) from None

    def _identifier_column(self) -> str:
        return next((self.mapping[r] for r in _IDENTIFIERS if r in self.mapping), "customer")


def _fitted(message: dict[str, Any], rows: list[Row]) -> Ready:
    """The message, its product list shortened if the whole would exceed the size limit."""
    budget = MAX_MESSAGE_BYTES - _HEADROOM
    size = len(orjson.dumps(message))
    products = message["properties"].get("products") or []
    if size <= budget or not products:
        return Ready(message, rows)
    properties = dict(message["properties"])
    keep = len(products)
    while keep and size > budget:
        keep = max(0, min(keep - 1, int(keep * budget / size)))
        properties["products"] = products[:keep]
        properties["products_omitted"] = len(products) - keep
        size = len(orjson.dumps({**message, "properties": properties}))
    return Ready({**message, "properties": properties}, rows)
