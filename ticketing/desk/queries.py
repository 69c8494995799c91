"""Read-only queries of the desk: the queues with keyset pagination, and a case's history."""
import base64
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from ticketing.auth.models import User
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.extensions import db
from ticketing.scheduling.deadlines import overdue_condition

# sort name -> (column, descending)
SORTS = {
    "due": (Ticket.resolution_due_at, False),
    "newest": (Ticket.created_at, True),
    "oldest": (Ticket.created_at, False),
    "priority": (Ticket.priority_rank, False),
    "updated": (Ticket.updated_at, True),
}
@dataclass
class Page:
    tickets: list
    next_cursor: str | None


def encode_cursor(value, ident: int) -> str:
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = json.dumps([value, ident]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str):
    """The (value, id) a page starts after; None for a malformed cursor (start over)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, ident = json.loads(raw)
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["t"])
        return value, int(ident)
    except (ValueError, TypeError, KeyError):
        return None


def queue_page(filters: dict, now: datetime, page_size: int, after: str | None = None) -> Page:
    """One page of tickets matching `filters`, ordered by (sort column, id): keyset pagination
    keeps every page as fast as the first, whatever the number of tickets."""
    column, descending = SORTS.get(filters.get("sort") or "due", SORTS["due"])
    query = select(Ticket).options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
    query = query.where(*_conditions(filters, now))
    position = decode_cursor(after) if after else None
    if position is not None:
        key = tuple_(column, Ticket.id)
        query = query.where(key < tuple_(*position) if descending else key > tuple_(*position))
    order = (column.desc(), Ticket.id.desc()) if descending else (column.asc(), Ticket.id.asc())
    rows = list(db.session.scalars(query.order_by(*order).limit(page_size + 1)).unique())
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, column.key), last.id)
    return Page(rows, next_cursor)


def _conditions(filters: dict, now: datetime) -> list:
    conditions = []
    status = filters.get("status") or "open"
    if status != "all":
        conditions.append(Ticket.status == status)
    for name in ("step", "priority", "category"):
        if filters.get(name):
            conditions.append(getattr(Ticket, name) == filters[name])
    assignee = filters.get("assignee")
    if assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif assignee:
        conditions.append(Ticket.assignee_id == int(assignee))
    if filters.get("overdue"):
        conditions.append(overdue_condition(now))
    return conditions


def case_events(ticket: Ticket) -> list[Event]:
    return list(db.session.scalars(
        select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id)))


def active_staff() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def find_ticket(reference: str) -> Ticket | None:
    return db.session.scalars(select(Ticket).where(Ticket.reference == reference.strip().upper())).first()
