"""Deadline policy: when a case must be answered, resolved, followed up and reviewed,
and when it is overdue. Hours come from the desk's settings, per priority and optionally per category."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_

from ticketing.cases.calendar import Calendar
from ticketing.cases.models import Ticket
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import ResolutionState, Status, Step
from ticketing.clock import as_utc
from ticketing.i18n import lazy_gettext as _l


def calendar() -> Calendar:
    """The business calendar in force (the settings page's)."""
    rules = desk()
    return Calendar.from_settings(
        rules.business_hours, rules.holidays, rules.workdays, current_app.config["BABEL_DEFAULT_TIMEZONE"]
    )


def policy_hours(priority: str, category: str | None, rules=None) -> tuple[float, float]:
    """(hours to first response, hours to a proposed resolution) for this kind of case (under `rules`:
    the settings in force when not given)."""
    rules = rules or desk()
    response, resolution = rules.deadline_hours[priority]
    override = rules.category_deadline_hours.get(category or "")
    if override:
        response, resolution = override
    return response, resolution


def deadlines(priority: str, start: datetime, category: str | None = None) -> tuple[datetime, datetime]:
    """(first response due, proposed resolution due) for a case opened at `start`."""
    response, resolution = policy_hours(priority, category)
    cal = calendar()
    return cal.add_hours(start, response), cal.add_hours(start, resolution)


def response_deadline(ticket: Ticket, start: datetime) -> datetime:
    """The response clock restarts when the customer writes again."""
    return calendar().add_hours(start, policy_hours(ticket.priority, ticket.category)[0])


def resolution_deadline(ticket: Ticket, start: datetime) -> datetime:
    """A case sent back for a new proposal gets a fresh resolution clock."""
    return calendar().add_hours(start, policy_hours(ticket.priority, ticket.category)[1])


def follow_up_deadline(start: datetime) -> datetime:
    return calendar().add_hours(start, desk().follow_up_delay_hours)


def review_deadline(start: datetime) -> datetime:
    return calendar().add_hours(start, desk().review_delay_hours)


def promise_deadline(ticket: Ticket) -> datetime | None:
    """A promised date is kept if done by the end of that (working) day."""
    if ticket.promised_date is None:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return as_utc(datetime.combine(ticket.promised_date, time(23, 59), zone))


_BEFORE_RESOLUTION = (Step.LISTEN, Step.APOLOGISE, Step.ANALYSE, Step.RESOLVE)
_NOT_YET_PROPOSED = (
    ResolutionState.NONE,
    ResolutionState.REJECTED,
    ResolutionState.REFUSED,
    ResolutionState.AWAITING_APPROVAL,
)


def overdue_condition(now: datetime):
    """Open, and late on any of its running deadlines (SQL, for the queues)."""
    return and_(
        Ticket.status == Status.OPEN,
        or_(
            and_(Ticket.responded_at.is_(None), Ticket.response_due_at < now),
            and_(
                Ticket.step.in_(_BEFORE_RESOLUTION),
                Ticket.resolution_state.in_(_NOT_YET_PROPOSED),
                Ticket.resolution_due_at < now,
            ),
            Ticket.follow_up_due_at < now,
            Ticket.review_due_at < now,
        ),
    )


def waiting_on_customer(ticket: Ticket) -> bool:
    """While the customer considers a proposal, the resolution clock stands still."""
    return ticket.resolution_state == ResolutionState.AWAITING_CUSTOMER


def resolution_offered(ticket: Ticket) -> bool:
    """The resolution deadline is met once a proposal has reached the customer."""
    return not (ticket.step in _BEFORE_RESOLUTION and ticket.resolution_state in _NOT_YET_PROPOSED)


def warning_lead(hours: float, rules=None) -> timedelta:
    """How long before a deadline of `hours` it is at risk: once the desk's share of the time is used."""
    return timedelta(hours=hours * (1 - (rules or desk()).at_risk_fraction))


@dataclass
class Deadline:
    name: str
    label: object
    due_at: datetime
    met: bool = False
    paused: bool = False
    warn_at: datetime | None = None  # from then on the deadline is at risk (the reminders' moment)

    def overdue(self, now: datetime) -> bool:
        return not self.met and not self.paused and self.due_at < now

    def at_risk(self, now: datetime) -> bool:
        """Running, not yet late, and past its warning moment."""
        running = not self.met and not self.paused and now <= self.due_at
        return running and self.warn_at is not None and self.warn_at <= now

    def state(self, now: datetime) -> str:
        """'met', 'paused', 'overdue', 'at_risk' or 'running'."""
        if self.met or self.paused:
            return "met" if self.met else "paused"
        return "overdue" if self.overdue(now) else "at_risk" if self.at_risk(now) else "running"

    def left(self, now: datetime) -> timedelta:
        return self.due_at - now


def case_deadlines(ticket: Ticket) -> list[Deadline]:
    """Every deadline of the case, met or running (the case page shows them all; a queue, on every row)."""
    rules = desk()
    response_hours, resolution_hours = policy_hours(ticket.priority, ticket.category, rules)
    items = [
        Deadline(
            "response",
            _l("First response"),
            ticket.response_due_at,
            met=ticket.responded_at is not None,
            warn_at=ticket.response_due_at - warning_lead(response_hours, rules),
        ),
        Deadline(
            "resolution",
            _l("Proposed resolution"),
            ticket.resolution_due_at,
            met=resolution_offered(ticket) and not waiting_on_customer(ticket),
            paused=waiting_on_customer(ticket),
            warn_at=ticket.resolution_due_at - warning_lead(resolution_hours, rules),
        ),
    ]
    promise = promise_deadline(ticket)
    if promise is not None:
        items.append(
            Deadline(
                "promise",
                _l("Promised to the customer"),
                promise,
                met=ticket.resolution_state == ResolutionState.CARRIED_OUT,
                warn_at=promise - timedelta(hours=rules.promise_warning_hours),
            )
        )
    if ticket.follow_up_due_at is not None:
        items.append(Deadline("follow_up", _l("Follow-up call"), ticket.follow_up_due_at))
    if ticket.review_due_at is not None:
        items.append(Deadline("review", _l("Supervisor's review"), ticket.review_due_at))
    if ticket.status != Status.OPEN:
        for item in items:
            item.met = True
    return items


QUEUE_LABELS = {  # a deadline as a queue row names it, with its state
    ("response", "overdue"): _l("Response overdue"),
    ("response", "at_risk"): _l("Response at risk"),
    ("resolution", "overdue"): _l("Resolution overdue"),
    ("resolution", "at_risk"): _l("Resolution at risk"),
    ("promise", "overdue"): _l("Promise missed"),
    ("promise", "at_risk"): _l("Promise at risk"),
    ("follow_up", "overdue"): _l("Follow-up overdue"),
    ("review", "overdue"): _l("Review overdue"),
}


@dataclass
class Pressing:
    """A deadline of a case that needs attention: overdue, or at risk."""

    deadline: Deadline
    state: str  # 'overdue' or 'at_risk'

    @property
    def label(self):
        return QUEUE_LABELS[(self.deadline.name, self.state)]


def pressing_deadlines(ticket: Ticket, now: datetime) -> list[Pressing]:
    """The case's deadlines that are overdue (the longest overdue first), then those at risk
    (the soonest first): what a queue row says instead of a bare "Overdue"."""
    if ticket.status != Status.OPEN:
        return []
    promised = ticket.resolution_state in (ResolutionState.AWAITING_CUSTOMER, ResolutionState.ACCEPTED)
    items = [Pressing(item, item.state(now)) for item in case_deadlines(ticket) if item.name != "promise" or promised]
    items = [item for item in items if item.state in ("overdue", "at_risk")]
    return sorted(items, key=lambda item: (item.state != "overdue", item.deadline.due_at))


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """The same rule as overdue_condition, for one loaded ticket."""
    return overdue_among(pressing_deadlines(ticket, now))


def overdue_among(pressing: list[Pressing]) -> bool:
    """is_overdue's answer from a case's pressing deadlines, which a queue row has already: a deadline
    other than the promise is overdue (a missed promise is named, but the case is not "overdue")."""
    return any(item.state == "overdue" and item.deadline.name != "promise" for item in pressing)
