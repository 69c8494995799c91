"""Step 4: propose a fair resolution, approve compensation above limits, hear the customer, carry it out."""

from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ticketing.cases.calendar import desk_today
from ticketing.cases.deadlines import follow_up_deadline
from ticketing.cases.records import CompensationLine, Resolution
from ticketing.cases.services.base import Change, compensation_limits
from ticketing.cases.services.guarantee import mark_proposed
from ticketing.cases.vocabulary import COMPENSATION_KIND_OF, CompensationType
from ticketing.cases.vocabulary import ResolutionState as RS
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db


def current_resolution(ticket) -> Resolution | None:
    return db.session.scalars(
        select(Resolution).where(Resolution.ticket_id == ticket.id).order_by(Resolution.id.desc())
    ).first()


def propose_resolution(ticket, actor, *, version, method, promised_date, currency, lines, estimated_loss=None):
    """The method and the date the customer is told, with economic and emotional compensation.

    Empowerment (员工授权): compensation up to the proposer's limit goes straight to the
    customer; above it, the proposal waits for a supervisor's approval.
    """
    change = Change(
        ticket,
        actor,
        "propose",
        {"promised_date": promised_date, "lines": lines, "today": desk_today(utcnow(), current_app.config)},
        version=version,
    )
    resolution = Resolution(
        ticket_id=ticket.id,
        method=method,
        promised_date=promised_date,
        estimated_loss=estimated_loss,
        currency=currency,
        proposed_by_id=actor.id,
        created_at=change.now,
        state=RS.AWAITING_CUSTOMER,
    )
    for line in lines:
        kind = COMPENSATION_KIND_OF[CompensationType(line["type"])]
        resolution.lines.append(
            CompensationLine(
                kind=kind,
                type=line["type"],
                currency=currency,
                description=line.get("description") or None,
                amount=line.get("amount"),
            )
        )
    limits = compensation_limits()
    if resolution.total > max(Decimal(value) for value in limits.values()):
        raise WorkflowError(
            _l("This compensation is above every approver's limit (%(limit)s); reduce it.", limit=max(limits.values()))
        )
    within_limit = resolution.total <= Decimal(limits[actor.role])
    resolution.state = RS.AWAITING_CUSTOMER if within_limit else RS.AWAITING_APPROVAL
    if within_limit:
        _approve_lines(resolution, actor, change.now)
    change.record(
        resolution,
        method=method,
        promised_date=promised_date,
        currency=currency,
        estimated_loss=estimated_loss,
        compensation_total=resolution.total,
        compensation=[f"{line.type} {line.amount or ''}".strip() for line in resolution.lines],
    )
    change.set(ticket, resolution_state=resolution.state, promised_date=promised_date)
    mark_proposed(ticket)
    if within_limit:
        change.set(ticket, clock_paused_at=change.now)  # now the customer considers it
    return change.done()


def approve_compensation(ticket, actor, *, version, comments=""):
    """A supervisor approves compensation above the proposer's limit; it goes to the customer."""
    resolution = current_resolution(ticket)
    amount = resolution.total if resolution is not None else 0
    change = Change(ticket, actor, "approve_compensation", {"amount": amount}, version=version)
    _approve_lines(resolution, actor, change.now)
    resolution.state, resolution.decided_by_id = RS.AWAITING_CUSTOMER, actor.id
    resolution.decision_reason = comments or None
    change.changes["compensation_total"] = (None, resolution.total)
    change.set(ticket, resolution_state=RS.AWAITING_CUSTOMER, clock_paused_at=change.now)
    return change.done()


def refuse_compensation(ticket, actor, *, version, reason):
    """A supervisor refuses; the proposer must propose again."""
    change = Change(ticket, actor, "refuse_compensation", {"reason": reason}, version=version)
    resolution = current_resolution(ticket)
    resolution.state, resolution.decided_by_id, resolution.decision_reason = RS.REFUSED, actor.id, reason
    change.changes["reason"] = (None, reason)
    change.set(ticket, resolution_state=RS.REFUSED, promised_date=None)
    return change.done()


def record_customer_answer(ticket, actor, *, version, accepted: bool, reason=""):
    """The customer accepts or rejects the proposal (told to staff, or through the portal)."""
    action = "customer_accepts" if accepted else "customer_rejects"
    change = Change(ticket, actor, action, {"reason": reason}, version=version)
    resolution = current_resolution(ticket)
    resolution.state = RS.ACCEPTED if accepted else RS.REJECTED
    resolution.customer_reason = reason or None
    if reason:
        change.changes["reason"] = (None, reason)
    change.set(ticket, resolution_state=resolution.state)
    if not accepted:
        change.set(ticket, promised_date=None)  # nothing is promised until a new proposal is accepted
        if ticket.clock_paused_at is not None:  # the time the customer took does not count against us
            change.set(ticket, resolution_due_at=ticket.resolution_due_at + (change.now - ticket.clock_paused_at))
    change.set(ticket, clock_paused_at=None)
    return change.done()


def carry_out_resolution(ticket, actor, *, version, note=""):
    """The accepted resolution is done; the case moves to follow-up."""
    change = Change(ticket, actor, "carry_out", version=version)
    resolution = current_resolution(ticket)
    resolution.state, resolution.carried_out_at = RS.CARRIED_OUT, change.now
    resolution.carried_out_note = note or None
    if note:
        change.changes["note"] = (None, note)
    change.set(ticket, resolution_state=RS.CARRIED_OUT, follow_up_due_at=follow_up_deadline(change.now))
    return change.done()


def _approve_lines(resolution, approver, at):
    for line in resolution.lines:
        line.approved_by_id, line.approved_at = approver.id, at
