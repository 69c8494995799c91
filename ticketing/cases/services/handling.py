"""Actions around the steps: assign, notes, messages, cancel, merge, reopen."""

from sqlalchemy import update

from ticketing import refusals
from ticketing.cases.deadlines import resolution_deadline, response_deadline
from ticketing.cases.models import Message, Note, Ticket
from ticketing.cases.reminders import notify_assignee, sync_reminders
from ticketing.cases.services.base import Change
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import ResolutionState, Status
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l


def assign_case(ticket, actor, *, version, assignee):
    """Supervisors (re)assign any case, or hand it back to the team queue (`assignee` None); an
    agent may take an unassigned case for themselves."""
    change = Change(ticket, actor, "assign", {"assignee": assignee}, version=version)
    before = ticket.assignee
    if ticket.assignee_id != (assignee.id if assignee else None):
        change.changes["assignee"] = (before.email if before else None, assignee.email if assignee else None)
        # Both sides, so a second assignment before the flush sees this one.
        ticket.assignee, ticket.assignee_id = assignee, assignee.id if assignee else None
    return change.done()


class HandOverRefused(refusals.Refusal):
    """One case of a hand-over was refused: none of them was handed over."""

    def __init__(self, ticket, error: refusals.Refusal):
        super().__init__(
            _l("%(reference)s: %(reason)s Nothing was reassigned.", reference=ticket.reference, reason=error.reason),
            status=error.status,
        )


def hand_over(cases, actor, *, assignee):
    """Reassign several cases at once (a supervisor's bulk action, an absent or departing colleague's
    open cases): `cases` are (ticket, version) pairs, a version None when the cases were not on the
    reader's screen. Each goes through assign_case (checked and logged per case); one refusal refuses
    them all. Returns the cases whose holder changed."""
    moved = []
    target = assignee.id if assignee else None
    for ticket, version in cases:
        if ticket.assignee_id == target:  # already theirs: nothing to hand over, nothing to log
            continue
        try:
            assign_case(ticket, actor, version=ticket.version if version is None else version, assignee=assignee)
        except refusals.Refusal as error:
            raise HandOverRefused(ticket, error) from error
        moved.append(ticket)
    return moved


def add_note(ticket, actor, *, body, version=None):
    """An internal note: for staff eyes only. Never conflicts: the ticket row is not written, so
    `version` is accepted and ignored, and any number of people may note at once."""
    change = Change(ticket, actor, "note")
    change.record(Note(ticket_id=ticket.id, author_id=actor.id, body=body, created_at=change.now), body=body)
    return change.done()


def send_message(ticket, actor, *, body, version=None):
    """A customer-visible message; the first one from staff counts as the first response.

    Never conflicts (`version` is accepted and ignored): the response clock it moves is written in
    place, so two people writing at once, or a message beside a colleague's action, both succeed.
    """
    change = Change(ticket, actor, "message", in_place=True)
    change.record(
        Message(ticket_id=ticket.id, author_id=actor.id if actor else None, body=body, created_at=change.now), body=body
    )
    if actor is None:  # the customer wrote again: the response clock restarts, the assignee hears of it
        _move_clock(change, responded_at=None, response_due_at=response_deadline(ticket, change.now))
        notify_assignee(ticket, "customer_message", change.now)
    elif ticket.responded_at is None:  # unless another first response got there first
        _move_clock(change, Ticket.responded_at.is_(None), responded_at=change.now)
    return change.done()


def _move_clock(change, *only_if, **fields) -> None:
    """Write the response clock in one UPDATE that bumps the version without checking it (so it never
    raises StaleDataError), stamped like any change; logged and followed by the reminders only when
    the row still matched `only_if`."""
    ticket, stamp = (
        change.ticket,
        {
            "version": Ticket.version + 1,
            "updated_at": change.now,
            "updated_by_id": change.actor.id if change.actor is not None else None,
        },
    )
    before = {name: getattr(ticket, name) for name in fields}
    written = db.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, *only_if)
        .values(**fields, **stamp)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(ticket)  # this copy's version and clock are old now: read them again
    if written.rowcount:
        change.changes.update({name: (before[name], value) for name, value in fields.items() if before[name] != value})
        sync_reminders(ticket, change.now)


def cancel_case(ticket, actor, *, version, reason):
    """Withdraw a case that needs no handling (with the reason on record)."""
    change = Change(ticket, actor, "cancel", {"reason": reason}, version=version)
    change.changes["reason"] = (None, reason)
    change.set(ticket, status=Status.CANCELLED, closed_at=change.now)
    return change.done()


def merge_case(ticket, actor, *, version, target, reason):
    """A duplicate is cancelled into the case it repeats; the customer's words stay on both."""
    change = Change(ticket, actor, "merge", {"target": target, "reason": reason}, version=version)
    change.changes["reason"] = (None, reason)
    change.changes["merged_into"] = (None, target.reference)
    change.set(ticket, status=Status.CANCELLED, closed_at=change.now)
    ticket.merged_into_id = target.id
    return change.done()


def customer_reopens(ticket, *, version, reason):
    """The customer says the problem is back, within the reopen window: the case goes back to analysis."""
    data = {"reason": reason, "now": utcnow(), "reopen_days": desk().reopen_days}
    change = Change(ticket, None, "customer_reopens", data, version=version)
    change.changes["reason"] = (None, reason)
    _reopen(change)  # the assignee is told by the hand-off table (reminders.HANDOFFS)
    return change.done()


def reopen_case(ticket, actor, *, version, reason):
    """A closed or cancelled case comes back to analysis (or to the earlier step it stopped at)."""
    change = Change(ticket, actor, "reopen", {"reason": reason}, version=version)
    change.changes["reason"] = (None, reason)
    _reopen(change)
    return change.done()


def _reopen(change) -> None:
    """Open again with every later step to be done anew, and a fresh resolution clock."""
    ticket = change.ticket
    change.set(
        ticket,
        status=Status.OPEN,
        closed_at=None,
        review_recorded_at=None,
        resolution_state=ResolutionState.NONE,
        analysed_at=None,
        promised_date=None,
        review_due_at=None,
        follow_up_due_at=None,
        clock_paused_at=None,
        resolution_due_at=resolution_deadline(ticket, change.now),
    )
    ticket.merged_into_id = None
