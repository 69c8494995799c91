"""The service guarantee: a missed resolution deadline earns the customer compensation,
suggested on the case so nobody has to remember it."""

from datetime import datetime

from sqlalchemy import select

from ticketing.cases.records import GuaranteeSuggestion
from ticketing.cases.services.base import Change
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import Status, SuggestionState
from ticketing.extensions import db


def open_suggestions(ticket) -> list[GuaranteeSuggestion]:
    return list(
        db.session.scalars(
            select(GuaranteeSuggestion)
            .where(GuaranteeSuggestion.ticket_id == ticket.id, GuaranteeSuggestion.status == SuggestionState.SUGGESTED)
            .order_by(GuaranteeSuggestion.id)
        )
    )


def suggest_service_guarantee(ticket, now: datetime) -> list[GuaranteeSuggestion]:
    """Add the configured compensation for this priority, once per case; logged as the scheduler."""
    rule = desk().service_guarantee.get(ticket.priority, [])
    already = db.session.scalar(select(GuaranteeSuggestion.id).where(GuaranteeSuggestion.ticket_id == ticket.id))
    if not rule or already is not None or ticket.status != Status.OPEN:
        return []
    currency = desk().currency
    rows = [
        GuaranteeSuggestion(ticket_id=ticket.id, type=kind, amount=amount, currency=currency, created_at=now)
        for kind, amount in rule
    ]
    change = Change(ticket, None, "suggest_compensation", actor_name="scheduler", now=now)
    db.session.add_all(rows)
    change.log(compensation=[f"{kind} {amount or ''}".strip() for kind, amount in rule])
    change.done()
    return rows


def mark_proposed(ticket) -> None:
    """A proposal made after the suggestion confirms it (the agent kept or changed the lines)."""
    for row in open_suggestions(ticket):
        row.status = SuggestionState.PROPOSED
