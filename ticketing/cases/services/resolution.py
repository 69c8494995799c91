"""Step 4: propose a fair resolution, approve compensation above limits, hear the customer, carry it out."""

from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from ticketing.cases import fair_offers
from ticketing.cases.calendar import desk_today
from ticketing.cases.deadlines import follow_up_deadline
from ticketing.cases.records import CompensationLine, Resolution
from ticketing.cases.services.base import Change, compensation_limits
from ticketing.cases.services.guarantee import mark_proposed
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import COMPENSATION_KIND_OF, CompensationType, Role
from ticketing.cases.vocabulary import ResolutionState as RS
from ticketing.clock import utcnow
from ticketing.extensions import db


def current_resolution(ticket) -> Resolution | None:
    return db.session.scalars(
        select(Resolution).where(Resolution.ticket_id == ticket.id).order_by(Resolution.id.desc())
    ).first()


def approver_roles(ticket) -> set:
    """The roles whose own limit covers the compensation waiting on `ticket` — the supervisors told
    that it waits for them. When no role's limit covers it, every supervisor's and admin's role."""
    resolution = current_resolution(ticket)
    amount = resolution.total if resolution is not None else Decimal(0)
    staff = {Role.SUPERVISOR, Role.ADMIN}
    limits = compensation_limits()
    able = {role for role in staff if amount <= Decimal(limits.get(role, 0))}
    return able or staff


def propose_resolution(
    ticket, actor, *, version, method, promised_date, currency, lines, estimated_loss=None, justification=""
):
    """The method and the date the customer is told, with economic and emotional compensation.

    Empowerment (员工授权): compensation up to the proposer's limit goes straight to the customer;
    above it, or a supervisor's own above an agent's limit (four eyes), or out of proportion to the
    loss (cases/fair_offers.py: then with the proposer's reason), it waits for a supervisor's
    approval. A one-person desk lets a supervisor pass their own offer within their limit (recorded).
    """
    rules, limits = desk(), compensation_limits()
    total = sum((Decimal(line.get("amount") or 0) for line in lines), Decimal(0))
    allowance = fair_offers.allowance(estimated_loss, fair_offers.responsibility_found(ticket), rules)
    change = Change(
        ticket,
        actor,
        "propose",
        {
            "promised_date": promised_date,
            "lines": lines,
            "currency": currency,
            "today": desk_today(utcnow(), current_app.config),
            "total": total,
            "out_of_proportion": total > allowance,
            "allowance": allowance,
            "justification": justification,
        },
        version=version,
    )
    resolution = Resolution(
        ticket_id=ticket.id,
        method=method,
        promised_date=promised_date,
        estimated_loss=estimated_loss,
        currency=currency.upper(),
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
                currency=currency.upper(),
                description=line.get("description") or None,
                amount=line.get("amount"),
            )
        )
    waiting = fair_offers.waiting_reasons(
        resolution.total, actor.role, limits=limits, proportionate=resolution.total <= allowance
    )
    if waiting and rules.one_person_desk and actor.role != Role.AGENT and "above_limit" not in waiting:
        change.log(four_eyes_waived=waiting)  # one person may give it alone here: kept with the proposal
        waiting = []
    resolution.state = RS.AWAITING_APPROVAL if waiting else RS.AWAITING_CUSTOMER
    if not waiting:
        _approve_lines(resolution, actor, change.now)
    change.record(
        resolution,
        method=method,
        promised_date=promised_date,
        currency=currency.upper(),
        estimated_loss=estimated_loss,
        compensation_total=resolution.total,
        compensation=[f"{line.type} {line.amount or ''}".strip() for line in resolution.lines],
    )
    if (justification or "").strip():
        change.log(justification=justification.strip())
    if waiting:
        change.log(waiting_for=waiting)
    change.set(ticket, resolution_state=resolution.state, promised_date=promised_date)
    mark_proposed(ticket)
    if not waiting:
        change.set(ticket, clock_paused_at=change.now)  # now the customer considers it
    return change.done()


def approve_compensation(ticket, actor, *, version, comments=""):
    """A supervisor approves compensation waiting for approval; it goes to the customer. Four eyes:
    not one the approver proposed (a one-person desk allows it, recorded on the case)."""
    resolution = current_resolution(ticket)
    amount = resolution.total if resolution is not None else 0
    proposer_id = resolution.proposed_by_id if resolution is not None else None
    one_person = desk().one_person_desk
    data = {"amount": amount, "proposer_id": proposer_id, "one_person_desk": one_person}
    change = Change(ticket, actor, "approve_compensation", data, version=version)
    if proposer_id == actor.id:
        change.log(four_eyes_waived=["self_approval"])
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
