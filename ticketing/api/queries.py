"""Read-only queries of the API: the case list with cursor paging (or ranked search results), the
customer search, and a case's record log."""

import base64
import json

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ticketing.api.resources import CustomerPage, TicketPage, customer_summary, summary
from ticketing.api.schemas import MAX_ID, CustomerFilters, TicketFilters
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.cases.search.finder import search_cases, search_customers
from ticketing.cases.search.query import parse
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


def _encode_search(cursor: str | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps({"search": cursor}).encode()).decode().rstrip("=") if cursor else None


def _decode_search(cursor: str | None) -> str | None:
    """The search position a page starts at: "" for the first page, None for a cursor not ours."""
    if cursor is None:
        return ""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["search"]
    except (ValueError, TypeError, KeyError):
        return None
    return value if isinstance(value, str) and len(value) <= 40 else None


def _conditions(filters: TicketFilters) -> list:
    conditions = []
    for name in ("step", "status", "priority", "category", "assignee_id"):
        value = getattr(filters, name)
        if value is not None:
            conditions.append(getattr(Ticket, name) == value)
    if filters.created_since is not None:
        conditions.append(Ticket.created_at >= filters.created_since)
    if filters.updated_since is not None:
        conditions.append(Ticket.updated_at >= filters.updated_since)
    return conditions


def ticket_page(filters: TicketFilters) -> TicketPage | None:
    """Oldest first by id, so paging is stable while cases are added or changed; with `q`, the
    search's ranking and its own cursor. None when the cursor is not one this API gave out."""
    if filters.q is not None:
        position = _decode_search(filters.cursor)
        if position is None:
            return None
        found = search_cases(
            parse(filters.q),
            include_notes=True,  # tokens belong to staff, who read internal notes
            conditions=_conditions(filters),
            limit=filters.limit,
            cursor=position or None,
        )
        return TicketPage(items=[summary(t) for t in found.items], next_cursor=_encode_search(found.next_cursor))
    query = select(Ticket).options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
    query = query.where(*_conditions(filters))
    if filters.cursor is not None:
        after = decode_cursor(filters.cursor)
        if after is None:
            return None
        query = query.where(Ticket.id > after)
    rows = list(db.session.scalars(query.order_by(Ticket.id).limit(filters.limit + 1)).unique())
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return TicketPage(items=[summary(t) for t in rows], next_cursor=encode_cursor(rows[-1].id) if more else None)


def customer_page(filters: CustomerFilters) -> CustomerPage | None:
    position = _decode_search(filters.cursor)
    if position is None:
        return None
    found = search_customers(parse(filters.q), limit=filters.limit, cursor=position or None)
    return CustomerPage(items=[customer_summary(c) for c in found.items], next_cursor=_encode_search(found.next_cursor))


def events(ticket: Ticket) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.seq)))
