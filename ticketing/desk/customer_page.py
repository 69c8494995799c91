"""Everything the customer's record shows, and the intake's screen-pop, gathered so the views stay thin."""

from collections import defaultdict
from decimal import Decimal

from flask import url_for
from flask_babel import format_currency
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ticketing.auth.forms import LANGUAGE_CHOICES
from ticketing.cases import catalogue
from ticketing.cases.customers import EDITABLE, FILLABLE, CustomerEvent, merge_refusal
from ticketing.cases.models import Customer, Ticket
from ticketing.cases.queries import find_ticket
from ticketing.cases.records import CompensationLine, FollowUpRecord, Resolution
from ticketing.cases.risk import risk_of
from ticketing.cases.services.intake import find_customers
from ticketing.cases.survey import SurveyResponse
from ticketing.cases.vocabulary import ResolutionState, Status
from ticketing.cases.winback import WinBackAction
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import day
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.validation import parse_id

FIELD_LABELS = {
    "name": _l("Name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "external_id": _l("External id"),
    "locale": _l("Language"),
    "value_tier": _l("Value tier"),
    "merged_into": _l("Merged into"),
    "merged_from": _l("Merged from"),
    "cases": _l("Cases moved"),
    "reason": _l("Reason"),
}
EVENT_LABELS = {
    "update": _l("Details changed"),
    "merged_in": _l("A duplicate record was merged into this one"),
    "merged_into": _l("Merged into another record"),
}
LANGUAGES = dict(LANGUAGE_CHOICES)
BUY_AGAIN = {"yes": _l("Yes"), "maybe": _l("Maybe"), "no": _l("No")}


def record(customer: Customer) -> dict:
    """The record page: details, cases, compensation, ratings, retention, risk, win-back, history."""
    tickets = list(
        db.session.scalars(
            select(Ticket).where(Ticket.customer_id == customer.id).order_by(Ticket.created_at.desc(), Ticket.id.desc())
        )
    )
    follow_ups = _follow_ups(customer)
    latest = {}
    for row, _reference in reversed(follow_ups):  # oldest first, so the latest of each case wins
        latest[row.ticket_id] = row
    lines = _granted_lines(customer)
    return {
        "customer": customer,
        "tickets": tickets,
        "outcomes": latest,
        "open_count": sum(1 for ticket in tickets if ticket.status == Status.OPEN),
        "lines": lines,
        "totals": _totals(lines),
        "follow_ups": follow_ups,
        "surveys": _surveys(customer),
        "risk": risk_of(customer.id, utcnow()),
        "win_backs": _win_backs(customer),
        "history": [describe(event) for event in _events(customer)],
        "language": LANGUAGES.get(customer.locale, customer.locale),
        "buy_again": BUY_AGAIN,
        "money": money,
    }


def _follow_ups(customer: Customer) -> list:
    """(follow-up, case reference), latest first: how each follow-up found the customer."""
    query = (
        select(FollowUpRecord, Ticket.reference)
        .join(Ticket, Ticket.id == FollowUpRecord.ticket_id)
        .where(Ticket.customer_id == customer.id)
        .order_by(FollowUpRecord.created_at.desc(), FollowUpRecord.id.desc())
    )
    return [tuple(row) for row in db.session.execute(query)]


def _granted_lines(customer: Customer) -> list:
    """(line, case reference) of every resolution carried out for the customer: what they were granted."""
    query = (
        select(CompensationLine, Ticket.reference)
        .join(Resolution, Resolution.id == CompensationLine.resolution_id)
        .join(Ticket, Ticket.id == Resolution.ticket_id)
        .where(Ticket.customer_id == customer.id, Resolution.state == ResolutionState.CARRIED_OUT)
        .order_by(Resolution.carried_out_at, CompensationLine.id)
    )
    return [tuple(row) for row in db.session.execute(query)]


def _totals(lines: list) -> list[str]:
    """The amounts granted, summed per currency, as the reader writes money."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for line, _reference in lines:
        if line.amount is not None:
            sums[line.currency] += line.amount
    return [format_currency(amount, currency) for currency, amount in sorted(sums.items())]


def money(line: CompensationLine) -> str:
    return format_currency(line.amount, line.currency) if line.amount is not None else "—"


def _surveys(customer: Customer) -> list:
    query = (
        select(SurveyResponse, Ticket.reference)
        .join(Ticket, Ticket.id == SurveyResponse.ticket_id)
        .where(Ticket.customer_id == customer.id)
        .order_by(SurveyResponse.created_at.desc())
    )
    return [tuple(row) for row in db.session.execute(query)]


def _win_backs(customer: Customer) -> list[WinBackAction]:
    query = (
        select(WinBackAction).options(joinedload(WinBackAction.owner)).where(WinBackAction.customer_id == customer.id)
    )
    return list(db.session.scalars(query.order_by(WinBackAction.created_at.desc(), WinBackAction.id.desc())))


def _events(customer: Customer) -> list[CustomerEvent]:
    query = (
        select(CustomerEvent).options(joinedload(CustomerEvent.actor)).where(CustomerEvent.customer_id == customer.id)
    )
    return list(db.session.scalars(query.order_by(CustomerEvent.id.desc())))


def describe(event: CustomerEvent) -> dict:
    """One change to the record as people read it: what, who, and each field from what to what (a fact
    of the change that was nothing before, a reason or the cases moved, is shown as it is)."""
    fields = [*event.before, *(name for name in event.after if name not in event.before)]
    return {
        "event": event,
        "label": EVENT_LABELS.get(event.action, event.action),
        "actor": event.actor.name if event.actor else _("the system"),
        "changes": [
            (
                FIELD_LABELS.get(name, name),
                _value(name, event.before.get(name)),
                _value(name, event.after.get(name)),
                name not in event.before,
            )
            for name in fields
        ],
    }


def _value(field: str, value):
    """A logged value in words; a record number is a link (the template shows {"text", "url"} as one)."""
    if value is None or value == "" or value == []:
        return "—"
    if field == "value_tier":
        return catalogue.tier_label(value)
    if field == "locale":
        return LANGUAGES.get(value, value)
    if field in ("merged_into", "merged_from"):
        return {"text": f"#{value}", "url": url_for("desk.customer", customer_id=value)}
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def side_by_side(survivor: Customer, duplicate: Customer) -> dict:
    """The merge's confirmation: both records' details, the fields the survivor will take, and what stops it."""
    counts = dict(
        db.session.execute(
            select(Ticket.customer_id, db.func.count(Ticket.id))
            .where(Ticket.customer_id.in_((survivor.id, duplicate.id)))
            .group_by(Ticket.customer_id)
        ).all()
    )
    filled = {name for name in FILLABLE if not getattr(survivor, name) and getattr(duplicate, name)}
    return {
        "survivor": survivor,
        "duplicate": duplicate,
        "fields": [(name, FIELD_LABELS[name]) for name in EDITABLE],
        "shown": {c.id: {n: _shown(c, n) for n in EDITABLE} for c in (survivor, duplicate)},
        "case_counts": counts,
        "filled": filled,
        "refused": merge_refusal(survivor, duplicate),
    }


def _shown(customer: Customer, name: str):
    value = getattr(customer, name)
    if name == "value_tier":
        return catalogue.tier_label(value)
    if name == "locale":
        return LANGUAGES.get(value, value)
    return value or "—"


def live(customer: Customer | None) -> Customer | None:
    """The record a person's cases live on: a merged record's survivor, else the record itself."""
    while customer is not None and customer.merged_into_id is not None:
        customer = customer.merged_into
    return customer


def candidates(query: str, exclude: Customer) -> list[Customer]:
    """Records that `query` names, for a merge: a record number (#12 or 12), one of their case
    references, or an exact e-mail or phone number. Merged records count as their survivor."""
    query = (query or "").strip()
    found = []
    number = parse_id(query.removeprefix("#"))
    if number is not None:
        found.append(db.session.get(Customer, number))
    ticket = find_ticket(query) if query.isascii() and query else None
    if ticket is not None:
        found.append(ticket.customer)
    found.extend(find_customers(query))
    unique = {c.id: c for c in (live(c) for c in found) if c is not None and c.id != exclude.id}
    return list(unique.values())


def screen_pop(query: str) -> list[dict]:
    """The intake look-up: each matching customer with a link to their record, their open cases and
    how their latest followed-up case ended, so the agent knows who is calling before asking."""
    people = {c.id: c for c in (live(c) for c in find_customers(query)) if c is not None}
    return [_pop(customer) for customer in people.values()]


def _pop(customer: Customer) -> dict:
    open_cases = db.session.scalars(
        select(Ticket)
        .where(Ticket.customer_id == customer.id, Ticket.status == Status.OPEN)
        .order_by(Ticket.created_at.desc())
        .limit(5)
    )
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "tier": catalogue.tier_label(customer.value_tier),
        "cases": db.session.scalar(select(db.func.count(Ticket.id)).where(Ticket.customer_id == customer.id)),
        "url": url_for("desk.customer", customer_id=customer.id),
        "open_cases": [
            {
                "reference": t.reference,
                "subject": t.subject,
                "step": str(t.step.label),
                "url": url_for("desk.case", reference=t.reference),
            }
            for t in open_cases
        ],
        "last_outcome": _last_outcome(customer),
    }


def _last_outcome(customer: Customer) -> str | None:
    row = db.session.execute(
        select(FollowUpRecord, Ticket.reference)
        .join(Ticket, Ticket.id == FollowUpRecord.ticket_id)
        .where(Ticket.customer_id == customer.id)
        .order_by(FollowUpRecord.created_at.desc(), FollowUpRecord.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    follow_up, reference = row
    return _(
        "%(outcome)s (satisfaction %(score)d/5, %(retention)s) — %(reference)s, %(date)s",
        outcome=follow_up.outcome.label,
        score=follow_up.satisfaction,
        retention=follow_up.retention.label,
        reference=reference,
        date=day(follow_up.created_at),
    )
