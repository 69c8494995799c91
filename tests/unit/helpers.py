"""Helpers shared by the unit tests: stand-in tickets and actors, and database snapshots."""

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.extensions import db

# The ticket columns a workflow action may change; compared before and after a refused action.
TICKET_FIELDS = (
    "step",
    "status",
    "resolution_state",
    "assignee_id",
    "analysed_at",
    "review_recorded_at",
    "responded_at",
    "promised_date",
    "closed_at",
    "merged_into_id",
    "updated_at",
    "updated_by_id",
    "version",
)


def fake_ticket(**fields):
    """A ticket as the pure workflow rules see it: open, at step 1, assigned to actor 1."""
    values = dict(
        id=10,
        step="listen",
        status="open",
        resolution_state="none",
        assignee_id=1,
        analysed_at=None,
        review_recorded_at=None,
    )
    values.update(fields)
    return SimpleNamespace(**values)


def fake_actor(id, role):
    return SimpleNamespace(id=id, role=role)


def event_count(ticket=None) -> int:
    query = select(func.count(Event.id))
    if ticket is not None:
        query = query.where(Event.ticket_id == ticket.id)
    return db.session.scalar(query)


def events_of(ticket) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id)))


def last_event(ticket) -> Event:
    return events_of(ticket)[-1]


def snapshot(ticket) -> dict:
    """The ticket's stored columns, read fresh from the database."""
    db.session.expire_all()
    fresh = db.session.get(Ticket, ticket.id)
    return {name: getattr(fresh, name) for name in TICKET_FIELDS}


def assert_refused_and_unchanged(ticket, action, expected_error, message=None):
    """Run `action`; it must raise `expected_error` and leave the case and the log as they were."""
    before, events = snapshot(ticket), event_count()
    with pytest.raises(expected_error) as raised:
        action()
    db.session.rollback()
    assert snapshot(ticket) == before
    assert event_count() == events
    if message is not None:
        assert str(raised.value.reason) == message
    return raised.value
