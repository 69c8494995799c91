"""Read-only look-ups every front door shares: a case by reference, its events, the staff, page cursors,
and which cases still wait for triage or were escalated."""

import base64
import json
from datetime import datetime

from sqlalchemy import exists, func, select

from ticketing.auth.models import User
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.cases.vocabulary import Status
from ticketing.extensions import db


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


def case_events(ticket: Ticket) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id)))


def capped_count(query, limit: int | None = None) -> int:
    """The rows of `query`, or (with `limit`) min(rows, limit + 1): enough to tell a few from many
    without counting a large desk's history."""
    if limit is not None:
        query = query.limit(limit + 1)
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def active_staff() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def find_ticket(reference: str) -> Ticket | None:
    return db.session.scalars(select(Ticket).where(Ticket.reference == reference.strip().upper())).first()


def needs_triage_condition():
    """Open cases nobody has triaged yet: no category, and no `triage` event in the record log. Web
    complaints arrive so (the portal asks the customer no category), as do calls and API cases taken
    without one. A triage clears the mark even if it leaves the category empty: someone looked."""
    triaged = exists().where(Event.ticket_id == Ticket.id, Event.action == "triage")
    return (Ticket.status == Status.OPEN) & Ticket.category.is_(None) & ~triaged


def needs_triage_among(ticket_ids: list[int]) -> set[int]:
    """Which of these cases need triage (one query for a page of them)."""
    if not ticket_ids:
        return set()
    return set(db.session.scalars(select(Ticket.id).where(Ticket.id.in_(ticket_ids), needs_triage_condition())))


def escalated_among(ticket_ids: list[int]) -> set[int]:
    """Which of these cases were ever escalated, by staff or by the scheduler (one query for a page)."""
    if not ticket_ids:
        return set()
    found = select(Event.ticket_id).where(
        Event.ticket_id.in_(ticket_ids), Event.action.in_(("escalate", "auto_escalate"))
    )
    return set(db.session.scalars(found.distinct()))


def open_cases_of(user_id: int) -> list[Ticket]:
    """Every open case `user_id` holds, oldest first (what a hand-over moves)."""
    query = select(Ticket).where(Ticket.status == Status.OPEN, Ticket.assignee_id == user_id)
    return list(db.session.scalars(query.order_by(Ticket.created_at, Ticket.id)))


def open_case_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(Ticket.id)).where(Ticket.status == Status.OPEN, Ticket.assignee_id == user_id)
    )
