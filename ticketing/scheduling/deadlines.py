"""Deadline policy: when a case must be answered and resolved, and when it is overdue."""
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_

from ticketing.cases.models import Ticket
from ticketing.cases.vocabulary import ResolutionState, Status, Step


def deadlines(priority: str, start: datetime) -> tuple[datetime, datetime]:
    """(first response due, proposed resolution due) for a case of `priority` opened at `start`."""
    response_hours, resolution_hours = current_app.config["DEADLINE_HOURS"][priority]
    return start + timedelta(hours=response_hours), start + timedelta(hours=resolution_hours)


_BEFORE_RESOLUTION = (Step.LISTEN, Step.APOLOGISE, Step.ANALYSE, Step.RESOLVE)
_NOT_YET_PROPOSED = (ResolutionState.NONE, ResolutionState.REJECTED, ResolutionState.REFUSED,
                     ResolutionState.AWAITING_APPROVAL)


def overdue_condition(now: datetime):
    """Open, and either not yet answered after the response deadline or not yet offered a
    resolution after the resolution deadline."""
    return and_(Ticket.status == Status.OPEN, or_(
        and_(Ticket.responded_at.is_(None), Ticket.response_due_at < now),
        and_(Ticket.step.in_(_BEFORE_RESOLUTION), Ticket.resolution_state.in_(_NOT_YET_PROPOSED),
             Ticket.resolution_due_at < now),
    ))


def resolution_offered(ticket: Ticket) -> bool:
    """The resolution deadline is met once a proposal has reached the customer."""
    return not (ticket.step in _BEFORE_RESOLUTION and ticket.resolution_state in _NOT_YET_PROPOSED)


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """The same rule as overdue_condition, for one loaded ticket."""
    if ticket.status != Status.OPEN:
        return False
    return (ticket.responded_at is None and ticket.response_due_at < now) or (
        not resolution_offered(ticket) and ticket.resolution_due_at < now)
