"""Read-only queries of the API: the case list with cursor paging, and a case's record log."""

import base64
import json

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ticketing.api.resources import TicketPage, summary
from ticketing.api.schemas import MAX_ID, TicketFilters
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.extensions import db


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The id a page starts after, or None for anything this API did not hand out."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["after"]
    except (ValueError, TypeError, KeyError):
        return None
    return value if type(value) is int and 0 <= value <= MAX_ID else None


def ticket_page(filters: TicketFilters) -> TicketPage | None:
    """Oldest first by id, so paging is stable while cases are added or changed."""
    query = select(Ticket).options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
    for name in ("step", "status", "priority", "category", "assignee_id"):
        value = getattr(filters, name)
        if value is not None:
            query = query.where(getattr(Ticket, name) == value)
    if filters.created_since is not None:
        query = query.where(Ticket.created_at >= filters.created_since)
    if filters.updated_since is not None:
        query = query.where(Ticket.updated_at >= filters.updated_since)
    if filters.cursor is not None:
        after = decode_cursor(filters.cursor)
        if after is None:
            return None
        query = query.where(Ticket.id > after)
    rows = list(db.session.scalars(query.order_by(Ticket.id).limit(filters.limit + 1)).unique())
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return TicketPage(items=[summary(t) for t in rows], next_cursor=encode_cursor(rows[-1].id) if more else None)


def events(ticket: Ticket) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.seq)))
