"""The record log in words: action names, field names and values as people read them."""

from datetime import datetime

from flask import g
from sqlalchemy import select

from ticketing.auth.models import User
from ticketing.cases import catalogue, fair_offers
from ticketing.cases import vocabulary as V
from ticketing.cases.actions import ACTIONS
from ticketing.cases.checklist import ITEMS as CHECKLIST_ITEMS
from ticketing.cases.models import Customer
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.i18n import when

ACTION_LABELS = {
    **{name: action.label for name, action in ACTIONS.items()},
    # Written once by the upgrade that began sealing records (migration 0016), not by any action.
    "records_sealed": _l("Records sealed as they stood"),
}

FIELD_LABELS = {
    "records": _l("Records sealed"),
    "customer_words": _l("In the customer's words"),
    "restatement": _l("Restatement"),
    "occurred_at": _l("When it happened"),
    "place": _l("Where"),
    "detail": _l("Facts found"),
    "notes": _l("Notes"),
    "return_to": _l("Send back to"),
    "step": _l("Step"),
    "status": _l("Status"),
    "resolution_state": _l("Resolution"),
    "assignee": _l("Assignee"),
    "reference": _l("Reference"),
    "customer": _l("Customer"),
    "subject": _l("Subject"),
    "channel": _l("Channel"),
    "priority": _l("Priority"),
    "category": _l("Category"),
    "product": _l("Product or service"),
    "catalogue_product": _l("Product in the catalogue"),
    "emotion": _l("Emotional state"),
    "dissatisfaction": _l("Dissatisfaction"),
    "restatement_confirmed": _l("Restatement confirmed"),
    "expectation": _l("Customer expects"),
    "method": _l("Method"),
    "wording": _l("What was said"),
    "responded_at": _l("First response"),
    "root_cause": _l("Root cause"),
    "legitimacy": _l("Justified?"),
    "responsibility": _l("Responsibility"),
    "motive": _l("Customer is after"),
    "analysed_at": _l("Analysed"),
    "promised_date": _l("Promised date"),
    "currency": _l("Currency"),
    "estimated_loss": _l("Estimated loss"),
    "compensation_total": _l("Compensation total"),
    "compensation": _l("Compensation"),
    "reason": _l("Reason"),
    "note": _l("Note"),
    "outcome": _l("Outcome"),
    "satisfaction": _l("Satisfaction (1-5)"),
    "recommend": _l("Would recommend us (0-10)"),
    "buy_again": _l("Would buy from us again"),
    "fair_outcome": _l("Fairness of the outcome (1-5)"),
    "fair_process": _l("Fairness of the way it was handled (1-5)"),
    "fair_treatment": _l("Fairness of the way they were treated (1-5)"),
    "comment": _l("Comment"),
    "retention": _l("Retention"),
    "churn_type": _l("Kind of churn"),
    "churn_cause": _l("Cause of churn"),
    "summary": _l("Summary"),
    "lesson": _l("Lesson"),
    "preventive_action": _l("Preventive action"),
    "review_recorded_at": _l("Summary recorded"),
    "decision": _l("Decision"),
    "closed_at": _l("Closed"),
    "merged_into": _l("Merged into"),
    "body": _l("Text"),
    "response_due_at": _l("First response due"),
    "resolution_due_at": _l("Resolution due"),
    "follow_up_due_at": _l("Follow-up due"),
    "review_due_at": _l("Review due"),
    "checklist": _l("Checklist items met"),
    "four_eyes_waived": _l("One-person desk: done alone"),
    "waiting_for": _l("Waiting for approval because"),
    "justification": _l("Why this compensation is fair"),
    "files": _l("Files"),
    "links": _l("Private links revoked"),
    "owner": _l("Owner"),
    "due_date": _l("Due date"),
}
_TIMES = {"response_due_at", "resolution_due_at", "follow_up_due_at", "review_due_at", "occurred_at"}
_BUY_AGAIN = {"yes": _l("Yes"), "maybe": _l("Maybe"), "no": _l("No")}  # a survey answer

FIELD_ENUMS = {
    "step": V.Step,
    "return_to": V.Step,
    "status": V.Status,
    "resolution_state": V.ResolutionState,
    "channel": V.Channel,
    "priority": V.Priority,
    "emotion": V.Emotion,
    "dissatisfaction": V.Dissatisfaction,
    "root_cause": V.RootCause,
    "legitimacy": V.Legitimacy,
    "responsibility": V.Responsibility,
    "motive": V.Motive,
    "outcome": V.Outcome,
    "retention": V.Retention,
    "churn_type": V.ChurnType,
    "churn_cause": V.ChurnCause,
    "decision": V.ReviewDecision,
}

_CODES = {"four_eyes_waived": fair_offers.WAIVERS, "waiting_for": fair_offers.WAIT_REASONS}

# Timestamps the service sets as a side effect: the event's own time already says when.
_QUIET = {"responded_at", "analysed_at", "review_recorded_at", "closed_at", "clock_paused_at"}


def _value(field, value):
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _l("yes") if value else _l("no")
    if field == "assignee":
        return _staff_name(value)
    if field == "customer" and isinstance(value, int):  # a merge logs the records' ids
        return _customer_name(value)
    if field in _TIMES:
        return when(datetime.fromisoformat(value), "short")
    if field == "buy_again" and value in _BUY_AGAIN:
        return _BUY_AGAIN[value]
    if field == "category" and isinstance(value, str):
        return catalogue.category_label(value)
    if field == "catalogue_product" and isinstance(value, str):  # a product merge logs the products' codes
        return catalogue.product_label(value)
    if field in FIELD_ENUMS and isinstance(value, str):
        return V.label_for(FIELD_ENUMS[field], value)
    if field == "method" and value in V.LABELS[V.ContactMethod]:
        return V.label_for(V.ContactMethod, value)
    if field == "checklist" and isinstance(value, list):
        labels = dict(CHECKLIST_ITEMS)
        return "; ".join(str(labels.get(item, item)) for item in value) or "—"
    if field in _CODES and isinstance(value, list):  # four eyes and fair offers: codes, read in words
        return "; ".join(str(_CODES[field].get(code, code)) for code in value)
    if field == "compensation" and isinstance(value, list):
        return ", ".join(_compensation_item(item) for item in value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return value


def _staff_name(email: str) -> str:
    """The log keeps the assignee's e-mail (it never changes meaning); readers see the name."""
    names = g.setdefault("staff_names", {})
    if email not in names:
        names[email] = db.session.scalar(select(User.name).where(User.email == email)) or email
    return names[email]


def _customer_name(customer_id: int) -> str:
    """'Li Lei (#17)': the record's name now, and its number, which never changes meaning."""
    name = db.session.scalar(select(Customer.name).where(Customer.id == customer_id))
    return f"{name} (#{customer_id})" if name else f"#{customer_id}"


def _compensation_item(item: str) -> str:
    """'refund 300' -> 'Refund 300' in the reader's language."""
    kind, _, amount = str(item).partition(" ")
    return f"{V.label_for(V.CompensationType, kind)} {amount}".strip()


def actor_label(event) -> str:
    """Who did it, as the reader says it: the staff member's name, the customer or the scheduler."""
    if event.actor_id is not None:
        return event.actor_name
    return _l("Scheduler (automatic)") if event.actor_name == "scheduler" else _l("Customer")


def describe(event) -> dict:
    """An event as the case page and the record log show it."""
    changes = [
        (FIELD_LABELS.get(field, field.replace("_", " ")), _value(field, before), _value(field, after), before is None)
        for field, (before, after) in (event.changes or {}).items()
        if field not in _QUIET
    ]
    return {
        "event": event,
        "label": ACTION_LABELS.get(event.action, event.action),
        "actor": actor_label(event),
        "changes": changes,
    }
