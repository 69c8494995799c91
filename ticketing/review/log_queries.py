"""Read-only queries of the record-log browser and the printable case report."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal

from sqlalchemy import select, tuple_

from ticketing.auth.models import User
from ticketing.cases import chain
from ticketing.cases.audit import Event
from ticketing.cases.deadlines import case_deadlines
from ticketing.cases.log_text import describe
from ticketing.cases.models import Message, Note, Ticket
from ticketing.cases.queries import case_events, decode_cursor, encode_cursor
from ticketing.cases.records import RECORDS
from ticketing.extensions import db
from ticketing.validation import storable_int

# Events without a staff actor carry one of these names (see audit.new_event).
CUSTOMER, SCHEDULER = "customer", "scheduler"


@dataclass(frozen=True)
class LogFilters:
    """What the browser and the export narrow the log to; None means any."""

    since: datetime | None = None  # UTC, inclusive
    until: datetime | None = None  # UTC, exclusive
    actor: str | None = None  # a user id, CUSTOMER or SCHEDULER
    action: str | None = None
    category: str | None = None
    reference: str | None = None


def period(first: date | None, last: date | None, zone: tzinfo) -> tuple[datetime | None, datetime | None]:
    """Whole days in the reader's timezone as UTC bounds: [first 00:00, the day after last 00:00)."""

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)

    return (midnight(first) if first else None, midnight(last + timedelta(days=1)) if last else None)


@dataclass
class LogRow:
    event: Event
    reference: str
    category: str | None  # a code of the category catalogue
    subject: str

    @property
    def described(self) -> dict:
        return describe(self.event)


@dataclass
class LogPage:
    rows: list[LogRow]
    next_cursor: str | None


def _conditions(filters: LogFilters) -> list:
    conditions = []
    if filters.since is not None:
        conditions.append(Event.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(Event.created_at < filters.until)
    if filters.actor in (CUSTOMER, SCHEDULER):
        conditions += [Event.actor_id.is_(None), Event.actor_name == filters.actor]
    elif filters.actor:
        conditions.append(Event.actor_id == int(filters.actor))
    if filters.action:
        conditions.append(Event.action == filters.action)
    if filters.category:
        conditions.append(Ticket.category == filters.category)
    if filters.reference:
        conditions.append(Ticket.reference == filters.reference.strip().upper())
    return conditions


def log_page(filters: LogFilters, page_size: int, after: str | None = None) -> LogPage:
    """One page of events, newest first by (created_at, id): keyset pagination keeps the
    hundredth page as fast as the first, however long the log grows."""
    query = (
        select(Event, Ticket.reference, Ticket.category, Ticket.subject)
        .join(Ticket, Ticket.id == Event.ticket_id)
        .where(*_conditions(filters))
    )
    position = decode_cursor(after) if after else None
    if (
        position is not None
        and isinstance(position[0], datetime)
        and position[0].tzinfo is not None
        and storable_int(position[1])
    ):  # a crafted cursor starts over, as a malformed one does
        query = query.where(tuple_(Event.created_at, Event.id) < position)
    query = query.order_by(Event.created_at.desc(), Event.id.desc()).limit(page_size + 1)
    rows = [LogRow(*row) for row in db.session.execute(query)]
    if len(rows) <= page_size:
        return LogPage(rows, None)
    rows = rows[:page_size]
    return LogPage(rows, encode_cursor(rows[-1].event.created_at, rows[-1].event.id))


def all_rows(filters: LogFilters, batch: int = 500) -> Iterator[LogRow]:
    """Every matching event, newest first, read a batch at a time (for the export)."""
    after = None
    while True:
        page = log_page(filters, batch, after)
        yield from page.rows  # the session holds loaded rows weakly: memory stays flat
        if page.next_cursor is None:
            return
        after = page.next_cursor


def staff_members() -> list[User]:
    """Everyone who may appear in the log, the departed too."""
    return list(db.session.scalars(select(User).order_by(User.name)))


def _rows(model, ticket: Ticket) -> list:
    return list(db.session.scalars(select(model).where(model.ticket_id == ticket.id).order_by(model.id)))


def compensation_share(resolution) -> Decimal | None:
    """Compensation as a percentage of the customer's estimated loss (None without a loss)."""
    if resolution is None or not resolution.estimated_loss:
        return None
    return (resolution.total * 100 / resolution.estimated_loss).quantize(Decimal("1"))


def case_report(ticket: Ticket) -> dict:
    """Everything the printable report shows: every round of every step, and the whole log."""
    records = {step: _rows(model, ticket) for step, model in RECORDS.items()}
    return {
        "ticket": ticket,
        "records": records,
        "deadlines": case_deadlines(ticket),
        "notes": _rows(Note, ticket),
        "messages": _rows(Message, ticket),
        "timeline": [describe(event) for event in case_events(ticket)],
        "head": chain_head(ticket),
        "compensation_share": compensation_share,
    }


def chain_head(ticket: Ticket) -> Event | None:
    """The case's latest event by seq: the one whose hash stands for the whole chain before it."""
    query = select(Event).where(Event.ticket_id == ticket.id).order_by(Event.seq.desc()).limit(1)
    return db.session.scalars(query).first()


@dataclass
class ChainCheck:
    """What checking one case's chain found: how many events were checked, its head, and the first problem."""

    checked: int
    head: Event | None
    broken: chain.Break | None
    broken_event: Event | None


def check_case_chain(ticket: Ticket) -> ChainCheck:
    """Run the record log's own per-case check, read-only, and load the event it names."""
    checked, broken = chain.verify_case(Event, ticket.id)
    broken_event = db.session.get(Event, broken.event_id) if broken and broken.event_id is not None else None
    return ChainCheck(checked, chain_head(ticket), broken, broken_event)
