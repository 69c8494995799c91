"""Read-only queries of the desk: the queues with keyset pagination."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from ticketing.cases.deadlines import QUEUE_LABELS, overdue_condition
from ticketing.cases.models import Ticket
from ticketing.cases.queries import (
    capped_count,
    decode_cursor,
    encode_cursor,
    escalated_among,
    needs_triage_among,
    needs_triage_condition,
)
from ticketing.cases.vocabulary import Priority, Status, Step
from ticketing.extensions import db
from ticketing.validation import storable_int

# sort name -> (column, descending); each column both ways, so a header can turn its order round
SORTS = {
    "due": (Ticket.resolution_due_at, False),
    "due_last": (Ticket.resolution_due_at, True),
    "newest": (Ticket.created_at, True),
    "oldest": (Ticket.created_at, False),
    "priority": (Ticket.priority_rank, False),
    "priority_low": (Ticket.priority_rank, True),
    "updated": (Ticket.updated_at, True),
    "updated_least": (Ticket.updated_at, False),
}
# a column header's sorts: the first when it is not the sort in force, else the other way round
HEADER_SORTS = {
    "priority": ("priority", "priority_low"),
    "due": ("due", "due_last"),
    "opened": ("oldest", "newest"),
    "updated": ("updated", "updated_least"),
}
COUNT_LIMIT = 10_000  # a queue counts no further: "more than 10,000" says enough
TRIAGE_COUNT_LIMIT = 100  # nor the cases waiting for triage, counted on every queue page: "more than 100"


@dataclass
class Page:
    tickets: list
    next_cursor: str | None
    total: int = 0  # the cases matching the filters, counted no further than `limit` + 1
    limit: int = 0
    needs_triage: set = field(default_factory=set)  # ids of the page's cases nobody has triaged yet
    escalated: set = field(default_factory=set)  # ids of the page's cases that were escalated


def queue_page(filters: dict, now: datetime, page_size: int, after: str | None = None) -> Page:
    """One page of tickets matching `filters`, ordered by (sort column, id): keyset pagination
    keeps every page as fast as the first, whatever the number of tickets."""
    column, descending = SORTS.get(filters.get("sort") or "due", SORTS["due"])
    query = select(Ticket).options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
    query = query.where(*filter_conditions(filters, now))
    position = _fitting(decode_cursor(after), column) if after else None
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
    ids = [ticket.id for ticket in rows]
    total = capped_count(select(Ticket.id).where(*filter_conditions(filters, now)), COUNT_LIMIT)
    return Page(rows, next_cursor, total, COUNT_LIMIT, needs_triage_among(ids), escalated_among(ids))


def row_words() -> dict:
    """The labels a queue row shows, translated once for the page: {"step": {value: label}, …}."""
    return {
        "step": {step.value: str(step.label) for step in Step},
        "priority": {priority.value: str(priority.label) for priority in Priority},
        "status": {status.value: str(status.label) for status in Status},
        "pressing": {key: str(label) for key, label in QUEUE_LABELS.items()},
    }


def header_sort(header: str, current: str) -> str:
    """The sort a column header links to: its first order, or the other way round when in force."""
    first, other = HEADER_SORTS[header]
    return other if current == first else first


def header_order(header: str, current: str) -> str | None:
    """'ascending' or 'descending' when the header's column is the sort in force (aria-sort)."""
    if current not in HEADER_SORTS[header]:
        return None
    return "descending" if SORTS[current][1] else "ascending"


def waiting_for_triage() -> int:
    """How many open cases nobody has triaged yet (the queue's link to them), counted no further than
    TRIAGE_COUNT_LIMIT + 1: each waiting case costs a look-up in the record log (bench/README.md, #18)."""
    return capped_count(select(Ticket.id).where(needs_triage_condition()), TRIAGE_COUNT_LIMIT)


def _fitting(position, column):
    """The cursor when its values fit the sort column and the id; a crafted one starts over, as a
    malformed one does (else the database would be asked to compare a date with a number)."""
    if position is None:
        return None
    value, ident = position
    if getattr(column.type, "impl", column.type).python_type is datetime:  # UTCDateTime decorates DateTime
        fits = value is None or isinstance(value, datetime) and value.tzinfo is not None
    else:
        fits = value is None or type(value) is int and storable_int(value)
    return position if fits and storable_int(ident) else None


def filter_conditions(filters: dict, now: datetime) -> list:
    """The queue's filters as conditions on Ticket (also applied to search results)."""
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
    if filters.get("triage"):
        conditions.append(needs_triage_condition())
    return conditions
