"""Closed cases on file, made row by row with exactly the cause, category, texts, compensation and
outcome a precedents test needs (the services would take a whole walk through the six steps each)."""

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from ticketing.cases import catalogue
from ticketing.cases.models import Customer, Ticket
from ticketing.cases.records import AnalysisRecord, CompensationLine, FollowUpRecord, Resolution
from ticketing.cases.vocabulary import COMPENSATION_KIND_OF, CompensationType
from ticketing.clock import utcnow
from ticketing.extensions import db

_numbers = count(1)


def _linked(product: str | None) -> int | None:
    """The catalogue's product the text names, added as staff would add it."""
    found = catalogue.product_for(product, create=True)
    return found.id if found is not None else None


def closed_case(
    staff,
    *,
    cause="product",
    category="product",
    product=None,
    subject="Kettle leaks from the base",
    description="The new kettle leaks every time it boils.",
    lines=(("refund", 100),),
    currency="CNY",
    loss=None,
    closed_days_ago=1.0,
    status="closed",
    state="carried_out",
    follow_up=("satisfied", 5, "retained"),
    earlier=(),
):
    """A case closed `closed_days_ago` days ago whose latest analysis found `cause`, settled with a
    resolution in `state` granting `lines` ((type, amount) pairs); `earlier` adds resolutions before it
    as (state, lines) pairs; `follow_up` is (outcome, satisfaction, retention), or None."""
    number = next(_numbers)
    now = utcnow()
    customer = Customer(name=f"Customer {number}", email=f"precedent{number}@example.com")
    closed_at = now - timedelta(days=closed_days_ago)
    ticket = Ticket(
        reference=f"C-P-{number:06d}",
        customer=customer,
        subject=subject,
        description=description,
        channel="phone",
        category=category,
        product=product,
        product_id=_linked(product),
        step="review",
        status=status,
        resolution_state=state,
        created_at=closed_at - timedelta(days=5),
        updated_at=closed_at,
        response_due_at=closed_at,
        resolution_due_at=closed_at,
        closed_at=closed_at if status == "closed" else None,
    )
    db.session.add(ticket)
    db.session.flush()
    analyse(ticket, staff, cause, product=product)
    for earlier_state, earlier_lines in earlier:
        resolve(ticket, staff, earlier_state, earlier_lines, currency, loss)
    resolve(ticket, staff, state, lines, currency, loss)
    if follow_up:
        outcome, satisfaction, retention = follow_up
        db.session.add(
            FollowUpRecord(
                ticket_id=ticket.id,
                method="phone",
                outcome=outcome,
                satisfaction=satisfaction,
                retention=retention,
                recorded_by_id=staff.id,
            )
        )
    db.session.commit()
    return ticket


def analyse(ticket, staff, cause, product=None):
    db.session.add(
        AnalysisRecord(
            ticket_id=ticket.id,
            root_cause=cause,
            detail="Found it",
            product=product,
            legitimacy="justified",
            responsibility="company",
            motive="compensation",
            analysed_by_id=staff.id,
        )
    )
    db.session.flush()


def resolve(ticket, staff, state, lines, currency="CNY", loss=None):
    resolution = Resolution(
        ticket_id=ticket.id,
        method="Put it right",
        promised_date=date.today(),
        estimated_loss=None if loss is None else Decimal(loss),
        currency=currency,
        state=state,
        proposed_by_id=staff.id,
    )
    for kind, amount, *line_currency in lines:
        resolution.lines.append(
            CompensationLine(
                kind=COMPENSATION_KIND_OF[CompensationType(kind)],
                type=kind,
                amount=None if amount is None else Decimal(amount),
                currency=line_currency[0] if line_currency else currency,
            )
        )
    db.session.add(resolution)
    db.session.flush()
    return resolution
