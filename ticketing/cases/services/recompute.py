"""Deadlines already running, timed again by the settings in force: a supervisor's choice after a change
of the deadline hours or the business calendar (until then, a change applies to new cases only)."""

from datetime import datetime

from sqlalchemy import select

from ticketing.cases.deadlines import resolution_offered
from ticketing.cases.models import Ticket
from ticketing.cases.services.base import Change
from ticketing.cases.services.triage import recompute_deadlines
from ticketing.cases.vocabulary import Status
from ticketing.extensions import db


def recompute_open_deadlines(actor, now: datetime) -> int:
    """Time the running deadlines of every open case again, each from its own start, by the deadline
    hours and the calendar in force (triage.recompute_deadlines says which clocks move, and how). A case
    whose deadlines move gets a `recompute_deadlines` event with the old and new times; a case whose
    deadlines stay is left alone, unlogged. Supervisors only. Stages; returns how many cases moved."""
    moved = 0
    for ticket in _with_a_running_clock():
        change = Change(ticket, actor, "recompute_deadlines", now=now)
        recompute_deadlines(change)
        if change.changes:
            change.done()
            moved += 1
    return moved


def _with_a_running_clock() -> list[Ticket]:
    """Open cases not yet answered, or with no resolution proposed to the customer yet."""
    open_cases = db.session.scalars(select(Ticket).where(Ticket.status == Status.OPEN).order_by(Ticket.id))
    return [ticket for ticket in open_cases if ticket.responded_at is None or not resolution_offered(ticket)]
