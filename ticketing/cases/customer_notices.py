"""What the customer is told, and when: each milestone of their case is one notice, sent by the
dispatcher in the customer's language, threaded as one conversation per case, with a private link.

Seed 002: an unexplained wait feels longer. So every notice says what happens next and by when.
What a notice carries is chosen here (data only); notify/messages.py words it. Nothing the
complainant typed goes into it except their name: the subject and description stay behind the link.
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from ticketing.cases.models import Ticket
from ticketing.cases.records import Resolution
from ticketing.cases.reminders import fresh_key, schedule
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import ReminderKind, ResolutionState, Status
from ticketing.extensions import db

# action -> the customer's notice. A proposal is told when it reaches the customer: at once when
# within the proposer's limit, else when a supervisor approves it. Only staff messages are told.
MILESTONES = {
    "create": ReminderKind.PORTAL_LINK,  # case received, from every door: the private link and what comes next
    "propose": ReminderKind.PROPOSAL_WAITING,
    "approve_compensation": ReminderKind.PROPOSAL_WAITING,
    "message": ReminderKind.STAFF_MESSAGE,
    "carry_out": ReminderKind.REMEDY_DONE,
    "approve_review": ReminderKind.CASE_CLOSED,
    "reopen": ReminderKind.CASE_REOPENED,
    "customer_reopens": ReminderKind.CASE_REOPENED,
}


def tell_customer(ticket: Ticket, actor, action: str, now: datetime, changes: dict) -> None:
    """Schedule the customer's notice for `action`, if it is a milestone (in the change's transaction)."""
    kind = MILESTONES.get(action)
    if kind is None or not ticket.customer.email:
        return
    if action == "propose" and ticket.resolution_state != ResolutionState.AWAITING_CUSTOMER:
        return
    if action == "message" and actor is None:
        return
    details = {"message": changes["body"][1]} if kind == ReminderKind.STAFF_MESSAGE else None
    schedule(
        fresh_key(kind, ticket),
        kind,
        ticket_id=ticket.id,
        audience="customer",
        due_at=now,
        now=now,
        details=details,
        fresh=True,
    )


def still_true(kind: str, ticket: Ticket | None) -> bool:
    """A milestone notice goes out only while what it says is still so (a proposal withdrawn or
    answered meanwhile, a closed case reopened, is not announced late)."""
    if ticket is None:
        return True
    if kind == ReminderKind.PROPOSAL_WAITING:
        return ticket.status == Status.OPEN and ticket.resolution_state == ResolutionState.AWAITING_CUSTOMER
    if kind == ReminderKind.CASE_CLOSED:
        return ticket.status == Status.CLOSED
    if kind == ReminderKind.CASE_REOPENED:
        return ticket.status == Status.OPEN
    return True


def what_the_customer_sees(kind: str, ticket: Ticket, stored: dict | None) -> dict:
    """The facts a customer notice states: the case, what happens next and by when, and for a
    proposal what is offered. Dates are ISO strings; the words come from notify/messages.py."""
    details: dict = {"reference": ticket.reference, "customer": ticket.customer.name, **(stored or {})}
    if kind == ReminderKind.PORTAL_LINK and ticket.status == Status.OPEN:
        details["respond_by"] = ticket.response_due_at.isoformat() if ticket.responded_at is None else None
        details["propose_by"] = ticket.resolution_due_at.isoformat()
    if kind == ReminderKind.PROPOSAL_WAITING:
        details.update(_proposal(ticket))
    if kind == ReminderKind.CASE_REOPENED:
        details["propose_by"] = ticket.resolution_due_at.isoformat()
    if kind in (ReminderKind.REMEDY_DONE, ReminderKind.FOLLOW_UP_COMING) and ticket.follow_up_due_at:
        details["call_by"] = ticket.follow_up_due_at.isoformat()
    if kind == ReminderKind.CASE_CLOSED and ticket.closed_at is not None:
        until = ticket.closed_at + timedelta(days=desk().reopen_days)
        details["reopen_until"] = until.isoformat()
    return details


def _proposal(ticket: Ticket) -> dict:
    resolution = db.session.scalars(
        select(Resolution).where(Resolution.ticket_id == ticket.id).order_by(Resolution.id.desc())
    ).first()
    if resolution is None:
        return {}
    return {
        "method": resolution.method,
        "promised_date": resolution.promised_date.isoformat(),
        "offer": [
            {"type": str(line.type), "amount": str(line.amount) if line.amount else None, "currency": line.currency}
            for line in resolution.lines
        ],
    }
