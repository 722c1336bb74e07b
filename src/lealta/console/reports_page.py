"""View models of the report pages: the period asked for, the message report with its totals,
charts over time, A/B splits with their verdicts, NPS, deliverability, and the contacts behind
every figure (``/reports/contacts?…``). Each figure comes with the link to its people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from lealta.audiences import service as audience_service
from lealta.audiences.members import member_ids
from lealta.bootstrap import Services
from lealta.channels.tables import OutboxMessage
from lealta.console.timecharts import Point, Series, lines
from lealta.errors import InvalidInput
from lealta.feedback import behind, deliverability
from lealta.feedback.nps import nps
from lealta.feedback.reports import (
    GROUPINGS,
    MessageStats,
    group_names,
    message_report,
    report_and_totals,
)
from lealta.feedback.splits import split_results
from lealta.feedback.trends import Bucket, trend
from lealta.overview.summary import Freshness, PerStore, Summaries

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
WEEKLY_AFTER = 62  # longer periods are charted per week
GROUP_LABELS = {
    "workflow": "Workflow",
    "step": "Workflow step",
    "template": "Template",
    "channel": "Channel",
}
# The report's columns: (count, its rate or None, heading)
COLUMNS = (
    ("sent", None, "Sent"),
    ("delivered", None, "Delivered"),
    ("bounced", "bounce_rate", "Bounced"),
    ("opened_unique", "open_rate", "Opened"),
    ("clicked_unique", "click_rate", "Clicked"),
    ("unsubscribed", "unsubscribe_rate", "Unsubscribed"),
    ("complained", "complaint_rate", "Complaints"),
    ("converted", "conversion_rate", "Buyers"),
)
# The figure of the contacts page behind each column.
FIGURE_OF = {"opened_unique": "opened", "clicked_unique": "clicked"}
# People counted once over a period (opened, clicked, bought) cannot be summed from the daily
# rollup: at ten million message events they take seconds to count. A report taking longer
# than a quarter of a second over at least LARGE messages comes from a summary recounted in
# the background and never older than a minute; a small shop's report is always live.
FRESHNESS = Freshness(live_below=0.25)
LARGE = 20_000
# The page never waits longer than this for the count of a period of at least LARGE messages
# (the first after a restart takes a minute or two at ten million message events on SQLite):
# it says "counting…" and reloads itself every RELOAD seconds until the figures, counted in
# the background, are there. A period of fewer messages is counted while the reader waits,
# however busy the machine.
WAIT = 1.0
ROLLUP_WAIT = 1.0  # then, for the figures that add up (from the rollup: a fraction of a second)
RELOAD = 5


@dataclass(frozen=True)
class Period:
    """The days a report covers, ``start`` to ``end`` included; ``since``/``until`` are the
    moments bounding them (midnight UTC); ``audience``: only the messages sent to its members
    (its id; ``None``: everyone's)."""

    start: dt.date
    end: dt.date
    choice: str  # "7", "30", "90" or "custom"
    audience: int | None = None

    @property
    def since(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), tzinfo=dt.UTC)

    @property
    def until(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def bucket(self) -> str:
        """Charts per day, or per week for long periods."""
        return "week" if self.days > WEEKLY_AFTER else "day"

    def query(self) -> dict[str, str]:
        """The period as query-string values (explicit dates, so a link means the same later),
        with its audience."""
        dates = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        return dates if self.audience is None else {**dates, "audience": str(self.audience)}

    def words(self) -> str:
        """``"the last 30 days (2025-05-04 to 2025-06-02)"`` or ``"2025-05-01 to 2025-05-31"``."""
        span = f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"
        return f"the last {self.choice} days ({span})" if self.choice != "custom" else span


def _date(query: Mapping[str, str], name: str, label: str) -> dt.date | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{label}: {text!r} is not a date (YYYY-MM-DD)", field=name) from None


def period_from(query: Mapping[str, str], *, now: dt.datetime) -> Period:
    """The period a query string asks for: ``period=7|30|90`` (the last days, today included),
    or ``from``/``to`` dates; the last 30 days when it says nothing; ``audience``, an audience
    id. ``InvalidInput`` names a bad field."""
    audience = query.get("audience", "").strip()
    if audience and not audience.isdigit():
        raise InvalidInput(f"Audience: {audience!r} is not an audience id", field="audience")
    return replace(_dates(query, now=now), audience=int(audience) if audience else None)


def _dates(query: Mapping[str, str], *, now: dt.datetime) -> Period:
    today = now.astimezone(dt.UTC).date()
    chosen = query.get("period", "").strip()
    start, end = _date(query, "from", "From"), _date(query, "to", "To")
    if chosen in {str(days) for days in PERIODS} or (not chosen and not (start or end)):
        days = int(chosen or DEFAULT_DAYS)
        return Period(today - dt.timedelta(days=days - 1), today, str(days))
    if chosen not in ("", "custom"):
        raise InvalidInput(
            f"Period: choose the last {', '.join(map(str, PERIODS))} days or dates", field="period"
        )
    if start is None or end is None:
        missing = "from" if start is None else "to"
        raise InvalidInput(f"{missing.title()}: give both dates of the period", field=missing)
    if end < start:
        raise InvalidInput(f"To ({end}) is before from ({start})", field="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(f"a period is at most {MAX_DAYS} days", field="from")
    return Period(start, end, "custom")


def grouping_from(query: Mapping[str, str]) -> str:
    """``by`` of the query string (workflow when not given); ``InvalidInput`` when unknown."""
    by = query.get("by", "").strip() or "workflow"
    if by not in GROUPINGS:
        raise InvalidInput(f"Group by: choose one of {', '.join(GROUP_LABELS)}", field="by")
    return by


def behind_link(period: Period, **criteria: str) -> str:
    """The contacts behind a figure of ``period`` (empty values left out)."""
    wanted = {name: value for name, value in criteria.items() if value}
    return "/reports/contacts?" + urlencode({**wanted, **period.query()})


def row_links(period: Period, by: str, stats: MessageStats) -> dict[str, str]:
    """Each column's link to the contacts behind its count."""
    key = dict(stats.key)
    return {
        column: behind_link(
            period, kind="message", by=by, figure=FIGURE_OF.get(column, column), **key
        )
        for column, _, _ in COLUMNS
    }


def time_chart(period: Period, buckets: list[Bucket]) -> str:
    """Messages sent, opened and clicked per bucket, each point linking to its people."""

    def series(name: str, attr: str, figure: str) -> Series:
        return Series(
            name,
            [
                Point(b.start.isoformat(), getattr(b, attr), _bucket_link(period, b, figure))
                for b in buckets
            ],
        )

    return lines(
        [
            series("sent", "sent", "sent"),
            series("opened", "opened", "opened"),
            series("clicked", "clicked", "clicked"),
        ],
        title=f"Messages sent, opened and clicked per {period.bucket}",
    )


def revenue_chart(period: Period, buckets: list[Bucket]) -> str:
    """Revenue credited to the messages of each bucket."""
    points = [
        Point(b.start.isoformat(), float(b.revenue), _bucket_link(period, b, "converted"))
        for b in buckets
    ]
    return lines(
        [Series("revenue", points)],
        title=f"Revenue credited per {period.bucket}",
        height=160,
    )


def _bucket_link(period: Period, bucket: Bucket, figure: str) -> str:
    first = max(bucket.start, period.start)
    last = bucket.start if period.bucket == "day" else bucket.start + dt.timedelta(days=6)
    part = replace(period, start=first, end=min(last, period.end), choice="custom")
    return behind_link(part, kind="message", by="channel", figure=figure)


def reports_context(services: Services, query: Mapping[str, str]) -> dict[str, Any]:
    """Everything ``reports.html`` shows for this query string."""
    context: dict[str, Any] = {
        "query": dict(query),
        "periods": PERIODS,
        "groupings": GROUP_LABELS,
        "columns": COLUMNS,
        "problem": "",
        "problem_field": "",
    }
    now = services.clock.now()
    try:
        period = period_from(query, now=now)
        by = grouping_from(query)
    except InvalidInput as problem:
        context.update(problem=str(problem), problem_field=problem.field or "")
        period, by = period_from({}, now=now), "workflow"
    with services.uow.transaction() as session:
        audiences = [(a.id, a.name) for a in audience_service.list_(session)]
        try:
            if period.audience is not None:
                member_ids(session, period.audience)
        except InvalidInput as problem:
            context.update(problem=str(problem), problem_field="audience")
            period = replace(period, audience=None)
    chosen = dict(audiences).get(period.audience) if period.audience is not None else None
    context.update(
        period=period,
        by=by,
        counting=False,
        partial=False,
        reload=RELOAD,
        audiences=audiences,
        audience_name=chosen,
        keep={"by": by, **{k: v for k, v in period.query().items() if k == "audience"}},
        everyone_href="/reports?" + urlencode({"by": by, **replace(period, audience=None).query()}),
    )
    key = (period.start, period.end, by, period.audience)
    kept, quick = report_figures(services), _quick.of(services)
    if _many(services, period):
        found = kept.within(key, 0.0)  # the figures kept, or their count begins
        if found is None:
            quick.within(key, 0.0)  # the rollup's figures are counted beside them
            found = kept.within(key, WAIT)
    else:
        found = kept.read(key)
    if found is None:
        # meanwhile, what adds up comes from the daily rollup at once (people: "…")
        found = quick.within(key, ROLLUP_WAIT)
        context.update(
            counting=True,
            partial=found is not None,
            csv_href="/reports.csv?" + urlencode({"by": by, **period.query()}),
        )
        if found is None:
            return context
    rows, totals = found["rows"], found["totals"]
    buckets = found.get("buckets", [])
    context.update(
        computed_at=found["computed_at"],
        splits=found["splits"],
        surveys=found["surveys"],
        period=period,
        by=by,
        key_names=group_names(by),
        rows=[(row, row.rates(), row_links(period, by, row)) for row in rows],
        totals=totals,
        total_rates=totals.rates(),
        total_link=lambda figure: behind_link(period, kind="message", by="channel", figure=figure),
        time_chart=time_chart(period, buckets) if buckets else "",
        revenue_chart=revenue_chart(period, buckets) if buckets else "",
        behind=lambda **criteria: behind_link(period, **criteria),
        csv_href="/reports.csv?" + urlencode({"by": by, **period.query()}),
    )
    return context


def _many(services: Services, period: Period) -> bool:
    """Whether at least :data:`LARGE` messages were sent in ``period`` (an index range read
    that stops there)."""
    sent = OutboxMessage.sent_at
    with services.uow.transaction() as session:
        capped = (
            select(OutboxMessage.id)
            .where(sent >= period.since, sent < period.until)
            .limit(LARGE)
            .subquery()
        )
        return int(session.scalar(select(func.count()).select_from(capped)) or 0) >= LARGE


# (first day, last day, grouping, audience id or None)
Key = tuple[dt.date, dt.date, str, int | None]
_kept: PerStore[Key, dict[str, Any]]


def report_figures(services: Services) -> Summaries[Key, dict[str, Any]]:
    """The process's summaries of report figures per (first day, last day, grouping,
    audience) for this store (made when first read, dropped with ``services``)."""
    return _kept.of(services)


def forget_figures(services: Services) -> None:
    """Drop this store's report summaries: the next read counts afresh."""
    _kept.forget(services)
    _quick.forget(services)


def _count(services: Services, what: Key, *, people: bool = True) -> dict[str, Any]:
    first, last, by, audience = what
    period = Period(first, last, "custom", audience)
    since, until = period.since, period.until
    computed_at = services.clock.now()
    with services.uow.transaction() as session:
        contacts = None if audience is None else member_ids(session, audience)
        rows, totals = report_and_totals(
            session, by=by, since=since, until=until, people=people, contacts=contacts
        )
        found = {
            "computed_at": computed_at,
            "rows": rows,
            "totals": totals,
            "splits": split_results(session, since=since, until=until, contacts=contacts),
            "surveys": nps(session, since=since, until=until, contacts=contacts),
        }
        if people:  # the charts read conversions from the rows: with the people
            found["buckets"] = trend(
                session, since=since, until=until, bucket=period.bucket, contacts=contacts
            )
        return found


def _rolled_up(services: Services, what: Key) -> dict[str, Any]:
    """The figures that add up (from the rollup), A/B splits and NPS, without the people
    counted once or the charts: what the page shows while those are counted."""
    return _count(services, what, people=False)


_kept = PerStore(
    _count,
    lambda: FRESHNESS,
    name="reports",
    large=lambda figures: figures["totals"].sent >= LARGE,
)
# Read only while the whole figures are counted, so kept as briefly as the whole ones.
_quick = PerStore(
    _rolled_up,
    lambda: FRESHNESS,
    name="reports rollup",
    large=lambda figures: figures["totals"].sent >= LARGE,
)


CSV_COLUMNS = (
    "sent",
    "delivered",
    "bounced",
    "opened_unique",
    "opened_total",
    "clicked_unique",
    "clicked_total",
    "unsubscribed",
    "complained",
    "converted",
    "converters",
    "revenue",
    "open_rate",
    "click_rate",
    "click_to_open",
    "unsubscribe_rate",
    "complaint_rate",
    "bounce_rate",
    "conversion_rate",
)


def csv_table(services: Services, query: Mapping[str, str]) -> tuple[str, list[list[Any]]]:
    """The report table as CSV rows (header first) and a file name naming grouping and
    period; ``InvalidInput`` for a bad query."""
    period = period_from(query, now=services.clock.now())
    by = grouping_from(query)
    with services.uow.transaction() as session:
        contacts = None if period.audience is None else member_ids(session, period.audience)
        rows = message_report(
            session, by=by, since=period.since, until=period.until, contacts=contacts
        )
    names = group_names(by)
    table: list[list[Any]] = [[*names, "from", "to", *CSV_COLUMNS]]
    for row in rows:
        values = row.as_dict()
        table.append(
            [
                *(row.key[name] for name in names),
                period.start.isoformat(),
                period.end.isoformat(),
                *("" if values[c] is None else values[c] for c in CSV_COLUMNS),
            ]
        )
    name = f"lealta-report-by-{by}-{period.start}-to-{period.end}.csv"
    return name, table


def figure_from(query: Mapping[str, str], *, now: dt.datetime) -> behind.Figure:
    """The figure ``/reports/contacts`` is asked about; ``InvalidInput`` names a bad field."""
    period = period_from(query, now=now)
    kind = query.get("kind", "message")
    if kind not in behind.KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(behind.KINDS)}", field="kind")
    by = grouping_from({"by": query.get("by", "template")})
    key = {name: query[name] for name in group_names(by) if query.get(name)}
    return behind.Figure(
        kind=kind,
        since=period.since,
        until=period.until,
        figure=query.get("figure", "sent" if kind == "message" else ""),
        by=by,
        key=key,
        workflow=query.get("workflow", ""),
        step=query.get("step", ""),
        branch=query.get("branch", ""),
        survey=query.get("survey", ""),
        category=query.get("category", ""),
        domain=query.get("domain", ""),
        audience=period.audience,
    )


_VERBS = {
    "sent": "were sent",
    "delivered": "had them delivered",
    "bounced": "bounced",
    "opened": "opened",
    "clicked": "clicked",
    "unsubscribed": "unsubscribed",
    "complained": "complained",
    "converted": "bought after them",
}


def describe(figure: behind.Figure, period: Period) -> str:
    """What the contacts page lists, in words."""
    when = period.words()
    if figure.kind == "split":
        did = {
            "people": "",
            "opened": " and opened",
            "clicked": " and clicked",
            "goal": " and reached the goal",
        }
        return (
            f"Contacts sent down branch {figure.branch!r} of split {figure.step!r} in workflow "
            f"{figure.workflow!r}{did.get(figure.figure, '')}, {when}"
        )
    if figure.kind == "nps":
        who = f"{figure.category}s" if figure.category else "everyone who answered"
        return f"Survey {figure.survey or 'answers'}: {who}, {when}"
    if figure.kind == "domain":
        what = {"bounced": "bounces", "complained": "complaints"}.get(
            figure.figure, "bounces or complaints"
        )
        return f"Contacts with {what} at {figure.domain}, {when}"
    group = " / ".join(f"{name} {value}" for name, value in figure.key.items())
    messages = f"messages of {group}" if group else "messages"
    verb = _VERBS.get(figure.figure, figure.figure)
    if figure.figure == "sent":
        return f"Contacts who were sent {messages}, {when}"
    return f"Contacts who {verb} ({messages}), {when}"


def behind_context(services: Services, query: Mapping[str, str]) -> dict[str, Any]:
    """Everything ``report_contacts.html`` shows: the figure in words and a page of people."""
    now = services.clock.now()
    context: dict[str, Any] = {"problem": "", "people": None, "title": "Contacts behind a figure"}
    try:
        figure = figure_from(query, now=now)
        period = period_from(query, now=now)
        with services.uow.transaction() as session:
            found = behind.people(session, figure, after=query.get("after", ""))
    except InvalidInput as problem:
        context.update(problem=str(problem))
        return context
    following = {k: v for k, v in query.items() if k != "after"}
    context.update(
        title=describe(figure, period),
        people=found,
        next_href=(
            "/reports/contacts?" + urlencode({**following, "after": found.after})
            if found.after
            else ""
        ),
        back_href="/reports?" + urlencode(period.query()),
        paged=bool(query.get("after")),
    )
    return context


def deliverability_context(
    services: Services, query: Mapping[str, str], *, notice: str = "", problem: str = ""
) -> dict[str, Any]:
    """Everything ``deliverability.html`` shows: bounces and complaints by provider and domain
    for the period, and a page of the suppression list (searched by address)."""
    now = services.clock.now()
    context: dict[str, Any] = {
        "query": dict(query),
        "periods": PERIODS,
        "problem": problem,
        "notice": notice,
    }
    try:
        period = period_from(query, now=now)
    except InvalidInput as bad:
        context["problem"] = str(bad)
        period = period_from({}, now=now)
    search = query.get("q", "").strip()
    before_text = query.get("before", "").strip()
    before = int(before_text) if before_text.isdigit() else None
    with services.uow.transaction() as session:
        domains = deliverability.by_domain(session, since=period.since, until=period.until)
        try:
            page = deliverability.search(session, text=search, before=before)
        except InvalidInput as bad:
            context["problem"] = str(bad)
            page = deliverability.search(session, before=before)
        for row in page.rows:
            session.expunge(row)
    providers = deliverability.by_provider(domains)
    totals = {
        "hard": sum(d.hard for d in domains),
        "soft": sum(d.soft for d in domains),
        "complaints": sum(d.complaints for d in domains),
    }
    keep = {k: v for k, v in query.items() if k in ("q", "period", "from", "to")}
    context.update(
        period=period,
        domains=domains[:50],
        more_domains=max(len(domains) - 50, 0),
        providers=providers,
        totals=totals,
        page=page,
        search=search,
        next_href=(
            "/reports/deliverability?" + urlencode({**keep, "before": page.before})
            if page.before
            else ""
        ),
        domain_link=lambda domain, figure="": behind_link(
            period, kind="domain", domain=domain, figure=figure
        ),
        here="/reports/deliverability?" + urlencode(keep),
    )
    return context
