"""Escalation: a case raised in priority and/or handed up, with the reason on record and whoever it
now waits for told at once; automatically, once per case, when its resolution deadline is missed."""

from datetime import datetime

from sqlalchemy import select

from ticketing.cases import on_file
from ticketing.cases.audit import Event
from ticketing.cases.services.base import Change
from ticketing.cases.services.triage import recompute_deadlines, set_priority
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import PRIORITY_RANK, Priority, Status
from ticketing.extensions import db

# Lowest to highest: an automatic escalation raises the priority one step, and urgent stays urgent.
LEVELS = sorted(Priority, key=PRIORITY_RANK.get, reverse=True)
ESCALATIONS = ("escalate", "auto_escalate")


def escalate_case(ticket, actor, *, version, reason, priority=None, assignee=None):
    """Staff who work the case (or a supervisor) escalate it with a reason: a higher priority, a new
    holder (a supervisor or a named colleague), or both. The new holder is told at once — or, when
    the holder stays the one who escalated, the supervisors are (reminders.HANDOFFS: an escalation is
    never silent). A higher priority times the running deadlines again, as a re-triage does."""
    priority = priority or None
    data = {"reason": reason, "priority": priority, "assignee": assignee}
    change = Change(ticket, actor, "escalate", data, version=version)
    if priority is not None:
        _raise(change, priority)
    if assignee is not None:
        before = ticket.assignee
        change.changes["assignee"] = (before.email if before else None, assignee.email)
        ticket.assignee, ticket.assignee_id = assignee, assignee.id  # both sides, as assign_case does
    change.log(reason=reason)
    return change.done()


def auto_escalate_on_breach() -> bool:
    """Whether a missed resolution deadline escalates the case by itself (the desk's setting)."""
    return desk().auto_escalate_on_breach


def escalate_overdue(ticket, now: datetime):
    """The resolution deadline was missed (the dispatcher, when its breach notice goes out): the case
    goes one priority up — low, normal, high, urgent; urgent stays urgent — logged as the scheduler
    and told to its holder (the supervisors hear of the breach itself). Once per case: a case already
    escalated automatically is left as it is. Returns the event, or None when nothing was done."""
    if ticket.status != Status.OPEN or _escalated_automatically(ticket):
        return None
    change = Change(ticket, None, "auto_escalate", actor_name="scheduler", now=now)
    _raise(change, one_level_up(ticket.priority))
    return change.done()


def one_level_up(priority) -> Priority:
    level = LEVELS.index(Priority(priority))
    return LEVELS[min(level + 1, len(LEVELS) - 1)]


def _raise(change, priority) -> None:
    if Priority(priority) != change.ticket.priority:
        set_priority(change, priority)
        recompute_deadlines(change)


def _escalated_automatically(ticket) -> bool:
    found = select(Event.id).where(Event.ticket_id == ticket.id, Event.action == "auto_escalate").limit(1)
    return db.session.scalar(found) is not None


def latest_escalation(ticket) -> Event | None:
    """The case's latest escalation, by staff or by the scheduler (the case page shows it)."""
    found, event = on_file.latest_where(Event, ticket, lambda row: row.action in ESCALATIONS)
    if found:
        return event
    return db.session.scalars(
        select(Event)
        .where(Event.ticket_id == ticket.id, Event.action.in_(ESCALATIONS))
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
