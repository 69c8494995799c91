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
    return suggest_service_guarantees([ticket], now)


def suggest_service_guarantees(tickets, now: datetime) -> list[GuaranteeSuggestion]:
    """suggest_service_guarantee() for many cases at once (the dispatcher's batch): the cases that
    already have a suggestion are found in one query, and the changes are logged together."""
    rules = desk().service_guarantee
    tickets = list({ticket.id: ticket for ticket in tickets if ticket.status == Status.OPEN}.values())
    already = set(
        db.session.scalars(
            select(GuaranteeSuggestion.ticket_id).where(
                GuaranteeSuggestion.ticket_id.in_([ticket.id for ticket in tickets])
            )
        )
    )
    currency, rows, changes = desk().currency, [], []
    for ticket in tickets:
        rule = rules.get(ticket.priority, [])
        if not rule or ticket.id in already:
            continue
        rows += [
            GuaranteeSuggestion(ticket_id=ticket.id, type=kind, amount=amount, currency=currency, created_at=now)
            for kind, amount in rule
        ]
        change = Change(ticket, None, "suggest_compensation", actor_name="scheduler", now=now)
        change.log(compensation=[f"{kind} {amount or ''}".strip() for kind, amount in rule])
        changes.append(change)
    db.session.add_all(rows)
    Change.done_all(changes)
    return rows


def mark_proposed(ticket) -> None:
    """A proposal made after the suggestion confirms it (the agent kept or changed the lines)."""
    for row in open_suggestions(ticket):
        row.status = SuggestionState.PROPOSED
