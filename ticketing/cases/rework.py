"""Rework without retyping: what a step's form starts from when a case comes round the step again,
and why it came back.

Records are only ever added (records.py), so the latest record of a step is what was last written
there: a new proposal starts from the one the customer rejected (or a supervisor refused), a summary
returned by a supervisor is offered again for editing, and the supervisor's preventive action starts
from the one the agent proposed. Each look-up is the case's own latest row (by its indexed ticket
id) or its latest event of one action (by the case's sequence): never a walk through the log.
"""

from flask import current_app

from ticketing.cases import fair_offers
from ticketing.cases.calendar import desk_today
from ticketing.cases.on_file import latest
from ticketing.cases.records import AnalysisRecord, ApologyRecord, ListenRecord, Resolution, ReviewRecord
from ticketing.cases.vocabulary import ResolutionState, ReviewDecision
from ticketing.clock import utcnow


def _value(member):
    return getattr(member, "value", member)


def proposal_defaults(ticket) -> dict:
    """The last proposal, field by field, for the new proposal form (empty before any proposal).

    A promised date that has passed is left out: it could not be promised again."""
    last = latest(Resolution, ticket)
    if last is None:
        return {}
    today = desk_today(utcnow(), current_app.config)
    return {
        "method": last.method,
        "promised_date": last.promised_date if last.promised_date >= today else None,
        "estimated_loss": last.estimated_loss,
        "currency": last.currency,
        "lines": [
            {"compensation": line.type.value, "details": line.description or "", "amount": line.amount}
            for line in last.lines
        ],
        "justification": fair_offers.why_waiting(ticket)["justification"] or "",
    }


def step_defaults(ticket, action: str) -> dict:
    """What an earlier round of step 1, 2, 3 or 6 wrote, for its form when the case comes back to it."""
    model, names = STEP_FIELDS[action]
    last = latest(model, ticket)
    if last is None:
        return {}
    return {name: _value(getattr(last, name)) for name in names if getattr(last, name) is not None}


# The form fields each step starts from, read from the step's latest record (same names).
STEP_FIELDS = {
    "listen": (
        ListenRecord,
        (
            "customer_words",
            "restatement",
            "restatement_confirmed",
            "expectation",
            "emotion",
            "dissatisfaction",
            "place",
        ),
    ),
    "apologise": (ApologyRecord, ("method", "wording")),
    "analyse": (AnalysisRecord, ("root_cause", "detail", "product", "legitimacy", "responsibility", "motive")),
    "record_review": (ReviewRecord, ("summary", "lesson", "preventive_action")),
}


def last_answer(ticket) -> dict | None:
    """Why the last proposal must be redone — the customer rejected it, or a supervisor refused its
    compensation — with who said so, when and their words; None when it was not turned down."""
    action = {ResolutionState.REJECTED: "customer_rejects", ResolutionState.REFUSED: "refuse_compensation"}.get(
        ticket.resolution_state
    )
    if action is None:
        return None
    event = fair_offers.latest_event(ticket, action)
    return {
        "by_customer": action == "customer_rejects",
        "who": event.actor_name if event is not None else "",
        "at": event.created_at if event is not None else None,
        "reason": fair_offers.logged(event, "reason") or "",
    }


def returned(ticket) -> dict | None:
    """The supervisor's return of the case's review, while it is being reworked (until a summary is
    recorded again): who returned it, when, to which step and what needs doing."""
    review = latest(ReviewRecord, ticket)
    if review is None or review.decision != ReviewDecision.RETURNED or ticket.review_recorded_at is not None:
        return None
    return {
        "who": review.decided_by.name if review.decided_by else "",
        "at": review.decided_at,
        "step": review.return_to,
        "reason": review.comments or "",
    }


def preventive_defaults(ticket) -> dict:
    """The supervisor's preventive action starts from the one the agent proposed, owned by that agent."""
    review = latest(ReviewRecord, ticket)
    if review is None or not (review.preventive_action or "").strip():
        return {}
    return {"description": review.preventive_action, "owner": review.recorded_by_id}
