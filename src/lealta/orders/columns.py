"""Which input column plays which role: explicit mapping first, well-known names second.

Pure: works on a list of column names and returns the mapping with a report of how each role
was found, so the CLI can tell the user what it detected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from lealta.errors import InvalidInput, MissingColumn

# Candidate names per role, compared after normalising (lower case, letters and digits only).
# The UCI Online Retail, CDNOW and R `rfm` sample names are among them.
KNOWN_NAMES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customerid",
        "customer",
        "customerno",
        "customernumber",
        "clientid",
        "client",
        "userid",
        "contactid",
        "memberid",
        "buyerid",
        "accountid",
        "masterid",
    ),
    "date": (
        "invoicedate",
        "orderdate",
        "orderdatetime",
        "purchasedate",
        "transactiondate",
        "date",
        "datetime",
        "createdat",
        "orderedat",
        "timestamp",
        "ordertime",
    ),
    "order": (
        "invoiceno",
        "invoice",
        "invoiceid",
        "invoicenumber",
        "orderid",
        "orderno",
        "ordernumber",
        "order",
        "transactionid",
        "receiptid",
        "salesorder",
    ),
    "amount": (
        "amount",
        "revenue",
        "total",
        "ordertotal",
        "totalamount",
        "sales",
        "value",
        "dollarvalue",
        "linetotal",
        "grossamount",
        "netamount",
        "ordervalue",
        "spend",
    ),
    "quantity": ("quantity", "qty", "units", "numberofitems"),
    "price": ("unitprice", "price", "itemprice", "priceeach"),
    "payment_method": ("paymentmethod", "paymenttype", "payment", "paidwith", "tender"),
    "due_date": ("duedate", "paymentduedate", "paymentdue", "dueon"),
    "paid_date": ("paiddate", "paymentdate", "paidat", "paidon", "settledat"),
    "days_to_pay": ("daystopay", "paymentdays", "dayspaid"),
    "email": ("email", "emailaddress", "mail", "customeremail"),
    "first_name": ("firstname", "givenname", "forename"),
    "last_name": ("lastname", "surname", "familyname"),
    "name": ("name", "customername", "fullname"),
}

REQUIRED = ("customer", "date")


def normalise(name: str) -> str:
    """Lower-case ``name`` and keep only letters and digits (``Invoice No`` → ``invoiceno``)."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


@dataclass(frozen=True)
class ColumnMap:
    """The input column playing each role; ``None`` where the input has none."""

    customer: str
    date: str
    order: str | None = None
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    payment_method: str | None = None
    due_date: str | None = None
    paid_date: str | None = None
    days_to_pay: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    groups: tuple[str, ...] = field(default=())

    def roles(self) -> dict[str, str]:
        """Role → column for every role that is mapped (groups excluded)."""
        return {
            f.name: value
            for f in fields(self)
            if f.name != "groups" and isinstance(value := getattr(self, f.name), str)
        }


@dataclass(frozen=True)
class Detection:
    """A mapping and, per role, whether it was ``given`` or ``detected``."""

    columns: ColumnMap
    how: dict[str, str]


def detect_columns(
    available: list[str],
    given: dict[str, str | None] | None = None,
    groups: tuple[str, ...] = (),
) -> Detection:
    """Map roles to columns of ``available``.

    Parameters
    ----------
    available
        The input's column names, in file order.
    given
        Role → column name chosen by the user; these always win and must exist.
    groups
        Columns to compute RFM within (``--group``); each must exist.

    Raises
    ------
    MissingColumn
        A given column does not exist (with the closest existing names), or a required role
        (customer, date, and an amount or quantity times price) cannot be found.
    """
    given = {role: col for role, col in (given or {}).items() if col}
    by_norm = {normalise(col): col for col in reversed(available)}
    mapping: dict[str, str] = {}
    how: dict[str, str] = {}
    for role, col in given.items():
        assert col is not None
        mapping[role] = _existing(col, available, role)
        how[role] = "given"
    for role, candidates in KNOWN_NAMES.items():
        if role in mapping:
            continue
        found = next((by_norm[c] for c in candidates if c in by_norm), None)
        if found is not None and found not in mapping.values():
            mapping[role] = found
            how[role] = "detected"
    _drop_ambiguous_amount(mapping, how)
    _require(mapping, available)
    checked_groups = tuple(_existing(g, available, "group") for g in groups)
    for group in checked_groups:
        said = next((w for r, w in _PER_CUSTOMER.items() if mapping.get(r) == group), None)
        if said is not None:
            raise InvalidInput(
                f"column {group!r} is read as the customer's {said}, so it "
                "cannot be a group too: a group splits customers into sets scored apart "
                "(a column such as country, channel or store)",
                field="group",
            )
    return Detection(ColumnMap(**mapping, groups=checked_groups), how)


# roles holding who the customer is (one value per customer, never a set of customers), in words
_PER_CUSTOMER = {
    "customer": "customer id",
    "email": "e-mail",
    "first_name": "first name",
    "last_name": "last name",
    "name": "name",
}


def _drop_ambiguous_amount(mapping: dict[str, str], how: dict[str, str]) -> None:
    """A detected amount column gives way when the user names quantity or price."""
    priced = "quantity" in mapping and "price" in mapping
    if priced and how.get("amount") == "detected" and "given" in (how["quantity"], how["price"]):
        del mapping["amount"], how["amount"]


def _require(mapping: dict[str, str], available: list[str]) -> None:
    for role in REQUIRED:
        if role not in mapping:
            raise MissingColumn(
                f"no {role} column found among {_listing(available)}; "
                f"name it with --{role.replace('_', '-')}",
                field=role,
            )
    if "amount" not in mapping and not ("quantity" in mapping and "price" in mapping):
        raise MissingColumn(
            f"no amount column (nor quantity and price) found among {_listing(available)}; "
            "name it with --amount, or --quantity and --price",
            field="amount",
        )


def _existing(col: str, available: list[str], role: str) -> str:
    if col in available:
        return col
    near = [c for c in available if normalise(c) == normalise(col)]
    if len(near) == 1:
        return near[0]
    hint = _closest(col, available)
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    raise MissingColumn(
        f"column {col!r} (given for {role}) is not in the file{suggestion} "
        f"Columns are: {_listing(available)}",
        field=role,
    )


def _closest(col: str, available: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(col, available, n=1, cutoff=0.6)
    if found:
        return found[0]
    lowered = {c.lower(): c for c in available}
    found = difflib.get_close_matches(col.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def _listing(available: list[str]) -> str:
    return ", ".join(repr(c) for c in available) if available else "(no columns)"
