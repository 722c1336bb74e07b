"""Which column of an import file plays which role: given names first, common names second.

Pure. Names are compared after :func:`lealta.orders.columns.normalise` (lower case, letters and
digits only), so ``Invoice No``, ``invoice_no`` and ``InvoiceNo`` are the same.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence

from lealta.errors import MissingColumn
from lealta.orders.columns import KNOWN_NAMES, normalise

_PHONE = ("phone", "phonenumber", "mobile", "mobilephone", "telephone", "tel", "cellphone")
_ANONYMOUS = ("anonymousid", "anonid", "deviceid", "visitorid")
_CUSTOMER = (*KNOWN_NAMES["customer"], "externalid", "customerexternalid")

ORDER_ROLES: dict[str, tuple[str, ...]] = {
    "order": KNOWN_NAMES["order"],
    "user_id": _CUSTOMER,
    "email": KNOWN_NAMES["email"],
    "phone": _PHONE,
    "anonymous_id": _ANONYMOUS,
    "date": (*KNOWN_NAMES["date"], "placedat", "placed"),
    "amount": KNOWN_NAMES["amount"],
    "quantity": KNOWN_NAMES["quantity"],
    "price": KNOWN_NAMES["price"],
    "currency": ("currency", "currencycode", "curr"),
    "channel": ("channel", "saleschannel", "orderchannel"),
    "payment_method": KNOWN_NAMES["payment_method"],
    "due_date": KNOWN_NAMES["due_date"],
    "paid_date": KNOWN_NAMES["paid_date"],
    "sku": ("stockcode", "sku", "productid", "productcode", "itemid", "itemcode", "articleid"),
    "item_name": ("description", "productname", "itemname", "product", "item", "title"),
    "category": ("category", "productcategory", "itemcategory"),
}

CONTACT_ROLES: dict[str, tuple[str, ...]] = {
    "user_id": (*_CUSTOMER, "id"),
    "email": KNOWN_NAMES["email"],
    "phone": _PHONE,
    "anonymous_id": _ANONYMOUS,
    "first_name": KNOWN_NAMES["first_name"],
    "last_name": KNOWN_NAMES["last_name"],
    "name": KNOWN_NAMES["name"],
}

# Segment's field names, and the spellings of flat files (user_id, message_id …).
EVENT_ROLES: dict[str, tuple[str, ...]] = {
    "type": ("type",),
    "event": ("event", "eventname"),
    "userId": ("userid",),
    "anonymousId": _ANONYMOUS,
    "email": ("email",),
    "phone": ("phone",),
    "timestamp": ("timestamp", "occurredat", "time", "date"),
    "messageId": ("messageid",),
    "name": ("name",),
    "previousId": ("previousid",),
    "groupId": ("groupid",),
    "properties": ("properties",),
    "traits": ("traits",),
    "context": ("context",),
}


def map_columns(
    available: Sequence[str],
    roles: Mapping[str, tuple[str, ...]],
    given: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """Role → column of ``available``: ``given`` names (which must exist), then known names.

    A column plays at most one role; roles are tried in the order of ``roles``.

    Raises
    ------
    MissingColumn
        A given column is not in the file (the message names the closest existing one).
    """
    mapping: dict[str, str] = {}
    for role, col in (given or {}).items():
        if col:
            mapping[role] = existing(col, available, role)
    taken = set(mapping.values())
    by_norm: dict[str, str] = {}
    for col in available:
        by_norm.setdefault(normalise(col), col)
    for role, candidates in roles.items():
        if role in mapping:
            continue
        found = next((by_norm[c] for c in candidates if c in by_norm), None)
        if found is not None and found not in taken:
            mapping[role] = found
            taken.add(found)
    return mapping


def existing(col: str, available: Sequence[str], role: str) -> str:
    """``col`` as spelled in the file (case and punctuation forgiven), else a helpful error."""
    if col in available:
        return col
    near = [c for c in available if normalise(c) == normalise(col)]
    if len(near) == 1:
        return near[0]
    close = difflib.get_close_matches(col, list(available), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise MissingColumn(
        f"column {col!r} (given for {role}) is not in the file{hint} "
        f"Columns are: {', '.join(repr(c) for c in available)}",
        field=role,
    )


def require(mapping: Mapping[str, str], needed: Sequence[str], available: Sequence[str]) -> None:
    """Every role of ``needed`` must be mapped (a tuple entry means "one of these")."""
    for role in needed:
        if role not in mapping:
            raise MissingColumn(
                f"no {role.replace('_', ' ')} column found among "
                f"{', '.join(repr(c) for c in available) or '(no columns)'}; "
                f"name it with --{role.replace('_', '-')}-column",
                field=role,
            )


def require_identifier(mapping: Mapping[str, str], available: Sequence[str]) -> None:
    """At least one identifier column: customer (user) id, e-mail, phone or anonymous id."""
    if not any(role in mapping for role in ("user_id", "email", "phone", "anonymous_id")):
        raise MissingColumn(
            "no column identifies the customer (customer id, e-mail, phone or anonymous id) "
            f"among {', '.join(repr(c) for c in available) or '(no columns)'}; "
            "name one with --customer-column or --email-column",
            field="customer",
        )


def attribute_name(column: str) -> str:
    """A column name as a contact attribute name: ``Loyalty Tier`` → ``loyalty_tier``."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", column.strip()).strip("_").lower()
    if not name:
        return "_"
    return f"_{name}" if name[0].isdigit() else name[:100]
