"""Read-only look-ups every front door shares: a case by reference, its events, the staff, page cursors."""

import base64
import json
from datetime import datetime

from sqlalchemy import select

from ticketing.auth.models import User
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
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


def active_staff() -> list[User]:
    return list(db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name)))


def find_ticket(reference: str) -> Ticket | None:
    return db.session.scalars(select(Ticket).where(Ticket.reference == reference.strip().upper())).first()
