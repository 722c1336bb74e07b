"""Loading the demo shop into the platform: customers, orders, web and e-mail events.

Everything goes through the tracking pipeline (inbox, then the processor), as a real shop's data
would, so profiles, stages, scores and orders come out of the same code. Times end yesterday,
so the demo always looks current.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from lealta.bootstrap import Services
from lealta.contacts.consent import record_consent
from lealta.contacts.tables import Contact, ContactList, Identifier, ListMembership
from lealta.errors import NotFound
from lealta.keys.service import create_key, verify_key
from lealta.storage.retry import in_transaction
from lealta.tracking.intake import enqueue
from lealta.tracking.messages import normalize
from lealta.tracking.processor import process_pending
from lealta.users.service import authenticate, create_user, reset_password

KEYS_FILE = Path("demo/keys.env")
DEMO_CONSOLE_EMAIL = "demo@lealta.example"
_LANGUAGES = {"DE": "de", "FR": "fr", "ES": "es", "PT": "pt", "IT": "it", "NL": "nl", "GB": "en"}
_PAGES = [("Home", "/"), ("Pricing", "/pricing"), ("New in", "/new"), ("Sale", "/sale")]
_CAMPAIGNS = [
    {"source": "newsletter", "medium": "email", "name": "weekly"},
    {"source": "google", "medium": "cpc", "name": "brand"},
    {"source": "instagram", "medium": "social", "name": "spring"},
]


@dataclass(frozen=True)
class DemoKeys:
    """The keys printed for exploring the demo."""

    admin: str
    track: str
    console_email: str = ""
    console_password: str = ""


def ensure_demo(
    services: Services,
    *,
    customers: int = 1000,
    seed: int = 7,
    progress: Callable[[str, int, int], None] | None = None,
) -> DemoKeys:
    """Load the demo shop unless the database already holds contacts; return keys to use."""
    with services.uow.transaction() as session:
        loaded = bool(session.scalar(select(func.count()).select_from(Contact)))
    keys = _read_keys(services) if loaded else None
    if keys is None:
        keys = _new_keys(services)
    keys = _with_console_user(services, keys)
    if not loaded:
        load_demo(services, customers=customers, seed=seed, progress=progress or _print_progress)
    return keys


def load_demo(
    services: Services,
    *,
    customers: int,
    seed: int = 7,
    progress: Callable[[str, int, int], None] | None = None,
) -> int:
    """Send the demo shop through the pipeline; returns the number of messages."""
    today = services.clock.now().date()
    messages = sorted(
        demo_messages(customers, seed=seed, end=today - dt.timedelta(days=1)),
        key=lambda m: m["timestamp"],
    )
    now = services.clock.now()
    for start in range(0, len(messages), 5000):
        chunk = [normalize(m, received_at=now) for m in messages[start : start + 5000]]
        enqueue(services.inbox.engine, chunk, received_at=now)
    done = 0
    while handled := process_pending(services):
        done += handled
        if progress:
            progress("applying demo events", done, len(messages))
    _subscribe_newsletter(services, seed)
    _loyalty_program(services)
    _rfm(services)
    _audiences(services)
    _message_templates(services)
    return len(messages)


def _message_templates(services: Services) -> None:
    """The ready-made message templates, so the demo's templates API is not empty."""
    from lealta.messages import catalog
    from lealta.messages.service import save

    now = services.clock.now()
    with services.uow.transaction() as session:
        for document in catalog.shipped():
            save(
                session,
                document["id"],
                document["channel"],
                document["body"],
                document.get("description", ""),
                now=now,
            )


def demo_messages(customers: int, *, seed: int, end: dt.date) -> Iterator[dict[str, Any]]:
    """The demo shop as tracking messages (orders from :mod:`lealta.demo.shop`, plus behaviour)."""
    from lealta.demo.baskets import BasketMaker
    from lealta.demo.shop import generate_orders

    start = end - dt.timedelta(days=730)
    table = generate_orders(customers=customers, seed=seed, start=start, end=end)
    rng = np.random.default_rng(seed)
    rows = table.to_pylist()
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["customer_id"], row)
    for customer, row in first.items():
        yield from _customer_journey(rng, customer, row)
    baskets = BasketMaker(np.random.default_rng([seed, 3]))
    for row in rows:
        lines = baskets.lines(row["customer_id"], row["category"], row["items"], row["amount"])
        yield from _order_messages(rng, row, lines)
    yield from _prospects(rng, max(1, customers // 2), start, end)


def _at(moment: dt.datetime) -> str:
    return moment.replace(tzinfo=dt.UTC).isoformat()


def _customer_journey(
    rng: np.random.Generator, customer: str, row: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    anonymous = f"web-{customer}"
    arrival = row["order_date"] - dt.timedelta(days=int(rng.integers(1, 30)), hours=2)
    campaign = _CAMPAIGNS[int(rng.integers(len(_CAMPAIGNS)))]
    for step in range(int(rng.integers(1, 4))):
        name, path = _PAGES[int(rng.integers(len(_PAGES)))]
        yield {
            "type": "page",
            "anonymousId": anonymous,
            "name": name,
            "messageId": f"demo-page-{customer}-{step}",
            "properties": {"path": path, "url": f"https://shop.example{path}", "title": name},
            "context": {"campaign": campaign, "page": {"path": path}},
            "timestamp": _at(arrival + dt.timedelta(minutes=3 * step)),
        }
    traits = {
        "email": row["email"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "country": row["country"],
        "language": _LANGUAGES.get(row["country"], "en"),
        "birthday": f"{int(rng.integers(1950, 2005))}-{int(rng.integers(1, 13)):02d}-"
        f"{int(rng.integers(1, 29)):02d}",
    }
    yield {
        "type": "identify",
        "anonymousId": anonymous,
        "userId": customer,
        "traits": traits,
        "messageId": f"demo-identify-{customer}",
        "timestamp": _at(arrival + dt.timedelta(minutes=15)),
    }
    if rng.random() < 0.35:
        yield {
            "type": "track",
            "userId": customer,
            "event": "Form Submitted",
            "properties": {"form": "newsletter"},
            "messageId": f"demo-form-{customer}",
            "timestamp": _at(arrival + dt.timedelta(minutes=16)),
        }
    for n in range(int(rng.poisson(2))):
        sent = row["order_date"] + dt.timedelta(days=int(rng.integers(1, 200)))
        for event in ("Email Opened", "Email Clicked")[: 1 + int(rng.random() < 0.3)]:
            yield {
                "type": "track",
                "userId": customer,
                "event": event,
                "properties": {"campaign": "weekly", "email_id": f"w{n}"},
                "messageId": f"demo-{event}-{customer}-{n}",
                "timestamp": _at(sent + dt.timedelta(hours=1)),
            }


def _order_messages(
    rng: np.random.Generator, row: dict[str, Any], lines: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    placed = row["order_date"]
    if rng.random() < 0.4:
        viewed = {key: lines[0][key] for key in ("category", "product_id", "name")}
        yield {
            "type": "track",
            "userId": row["customer_id"],
            "event": "Product Viewed",
            "properties": viewed,
            "messageId": f"demo-view-{row['order_id']}",
            "timestamp": _at(placed - dt.timedelta(minutes=12)),
        }
    properties = {
        "order_id": row["order_id"],
        "total": row["amount"],
        "currency": row["currency"],
        "products": lines,
        "channel": row["channel"],
        "payment_method": row["payment_method"],
    }
    for key in ("due_date", "paid_date"):
        if row[key] is not None:
            properties[key] = row[key].isoformat()
    yield {
        "type": "track",
        "userId": row["customer_id"],
        "event": "Order Completed",
        "properties": properties,
        "messageId": f"order:{row['order_id']}",
        "timestamp": _at(placed),
    }


def _prospects(
    rng: np.random.Generator, count: int, start: dt.date, end: dt.date
) -> Iterator[dict[str, Any]]:
    span = (end - start).days
    for i in range(count):
        anonymous = f"visitor-{i:05d}"
        moment = dt.datetime.combine(start, dt.time(9)) + dt.timedelta(
            days=int(rng.integers(span)), minutes=int(rng.integers(600))
        )
        name, path = _PAGES[int(rng.integers(len(_PAGES)))]
        yield {
            "type": "page",
            "anonymousId": anonymous,
            "name": name,
            "properties": {"path": path, "title": name},
            "messageId": f"demo-visit-{i}",
            "timestamp": _at(moment),
        }
        if rng.random() < 0.25:
            yield {
                "type": "identify",
                "anonymousId": anonymous,
                "traits": {"email": f"lead{i:05d}@example.org"},
                "messageId": f"demo-lead-{i}",
                "timestamp": _at(moment + dt.timedelta(minutes=4)),
            }
            if rng.random() < 0.5:
                yield {
                    "type": "track",
                    "anonymousId": anonymous,
                    "event": "File Downloaded",
                    "properties": {"file": "lookbook.pdf"},
                    "messageId": f"demo-download-{i}",
                    "timestamp": _at(moment + dt.timedelta(minutes=6)),
                }


def _subscribe_newsletter(services: Services, seed: int) -> None:
    """Put about half the known e-mail addresses on the newsletter list, with consent."""
    rng = np.random.default_rng(seed + 1)
    now = services.clock.now()

    def work(session: Any) -> None:
        newsletter = ContactList(slug="newsletter", name="Newsletter", created_at=now)
        session.add(newsletter)
        session.flush()
        owners = session.scalars(
            select(Identifier.contact_id).where(Identifier.kind == "email").order_by(Identifier.id)
        ).all()
        for owner in owners:
            if rng.random() < 0.5:
                session.add(
                    ListMembership(
                        list_id=newsletter.id,
                        contact_id=owner,
                        status="subscribed",
                        source="demo",
                        created_at=now,
                        updated_at=now,
                    )
                )
                record_consent(session, owner, "email", "granted", source="demo", at=now)

    in_transaction(services.uow, work)


def _loyalty_program(services: Services) -> None:
    """The example loyalty programme, in force before the RFM run that reviews the tiers."""
    from lealta.demo.loyalty import save_demo_program

    save_demo_program(services)


def _audiences(services: Services) -> None:
    """The example audiences, after the RFM run the RFM-based ones read."""
    from lealta.demo.audiences import save_demo_audiences

    save_demo_audiences(services)


def _rfm(services: Services) -> None:
    try:
        from lealta.segmentation.store import rfm_from_store
    except ImportError:  # pragma: no cover - only while the module is absent
        return
    rfm_from_store(services, clusters="auto", payment="promptness")


def _new_keys(services: Services) -> DemoKeys:
    now = services.clock.now()
    with services.uow.transaction() as session:
        admin = create_key(session, scope="admin", name="demo admin", now=now).key
        track = create_key(session, scope="track", name="demo site", now=now).key
    return DemoKeys(admin, track)


def _write_keys(keys: DemoKeys) -> None:
    KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
    KEYS_FILE.write_text(
        f"LEALTA_DEMO_ADMIN_KEY={keys.admin}\nLEALTA_DEMO_TRACK_KEY={keys.track}\n"
        f"LEALTA_DEMO_CONSOLE_EMAIL={keys.console_email}\n"
        f"LEALTA_DEMO_CONSOLE_PASSWORD={keys.console_password}\n"
    )


def _with_console_user(services: Services, keys: DemoKeys) -> DemoKeys:
    """The demo's console admin (created, or given a new password when the one kept in
    demo/keys.env no longer signs in), written to demo/keys.env with the API keys."""
    now = services.clock.now()
    with services.uow.transaction() as session:
        if keys.console_email and authenticate(
            session, email=keys.console_email, password=keys.console_password, now=now
        ):
            _write_keys(keys)
            return keys
        password = secrets.token_urlsafe(12)
        try:
            reset_password(session, DEMO_CONSOLE_EMAIL, password)
        except NotFound:
            create_user(session, email=DEMO_CONSOLE_EMAIL, role="admin", password=password, now=now)
    keys = replace(keys, console_email=DEMO_CONSOLE_EMAIL, console_password=password)
    _write_keys(keys)
    return keys


def _read_keys(services: Services) -> DemoKeys | None:
    """The keys written when the demo was loaded, if they still work on this database."""
    if not KEYS_FILE.exists():
        return None
    lines = KEYS_FILE.read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    keys = DemoKeys(
        values.get("LEALTA_DEMO_ADMIN_KEY", ""),
        values.get("LEALTA_DEMO_TRACK_KEY", ""),
        values.get("LEALTA_DEMO_CONSOLE_EMAIL", ""),
        values.get("LEALTA_DEMO_CONSOLE_PASSWORD", ""),
    )
    with services.uow.transaction() as session:
        valid = verify_key(session, keys.admin) and verify_key(session, keys.track)
    return keys if valid else None


def _print_progress(label: str, done: int, total: int) -> None:
    print(f"\r{label}: {done:,}/{total:,}", end="\n" if done >= total else "", flush=True)
