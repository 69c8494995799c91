"""Everything the case page shows, gathered in one place so the view stays thin."""

from flask import current_app
from flask_login import current_user
from sqlalchemy import func, select

from ticketing.cases import workflow
from ticketing.cases.case_file import case_file
from ticketing.cases.deadlines import case_deadlines, is_overdue, resolution_offered
from ticketing.cases.models import Reminder, ReplyTemplate, Ticket
from ticketing.cases.precedents import precedents_for
from ticketing.cases.services.guarantee import open_suggestions
from ticketing.cases.vocabulary import STEP_ORDER, ReminderStatus, Status, Step
from ticketing.clock import utcnow
from ticketing.desk.actions import SPECS, WORKFLOW_ACTIONS, build_form
from ticketing.extensions import db
from ticketing.notify.messages import KIND_LABELS


def offered(ticket) -> set[str]:
    """Desk actions the current user can take on this case now."""
    ctx = workflow.Context(ticket, current_user, {}, current_app.config["COMPENSATION_LIMITS"])
    allowed = workflow.offered_actions(ctx)
    actions = {action for action in SPECS if action in allowed}
    for desk_action, names in WORKFLOW_ACTIONS.items():
        if any(name in allowed for name in names):
            actions.add(desk_action)
    return actions


def context(ticket, submitted: dict | None = None) -> dict:
    submitted = submitted or {}
    actions = offered(ticket)
    forms = {action: submitted.get(action) or build_form(action, ticket) for action in actions}
    # A refused or stale submission whose form is no longer offered: show what was typed, so nothing is lost.
    unsaved = [
        (field.label.text, field.data)
        for action, form in submitted.items()
        if action not in actions
        for field in form
        if field.type in ("TextAreaField", "StringField") and field.data
    ]
    return {
        **case_file(ticket),
        "current_index": STEP_ORDER.index(ticket.step),
        "is_open": ticket.status == Status.OPEN,
        "overdue": is_overdue(ticket, utcnow()),
        "resolution_offered": resolution_offered(ticket),
        "deadlines": case_deadlines(ticket),
        "escalations": escalations(ticket),
        "suggestions": open_suggestions(ticket),
        "kind_labels": KIND_LABELS,
        "actions": actions,
        "forms": forms,
        "unsaved": unsaved,
        "replies": _reply_templates(),
        "limit": current_app.config["COMPENSATION_LIMITS"].get(current_user.role),
        # What similar closed cases received, beside the proposal and its approval (step 4 only).
        "precedents": precedents_for(ticket) if ticket.step == Step.RESOLVE and ticket.status == Status.OPEN else None,
        "other_cases": other_cases(ticket),
    }


OTHER_CASES = 5


def other_cases(ticket) -> tuple[list[Ticket], int]:
    """The same customer's other cases, open ones first then the newest (a few), and how many in all."""
    others = Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id
    shown = db.session.scalars(
        select(Ticket)
        .where(*others)
        .order_by((Ticket.status == Status.OPEN).desc(), Ticket.id.desc())
        .limit(OTHER_CASES)
    ).all()
    return list(shown), db.session.scalar(select(func.count(Ticket.id)).where(*others))


def escalations(ticket) -> list[Reminder]:
    """Missed deadlines already escalated to the supervisors (shown on the case)."""
    return list(
        db.session.scalars(
            select(Reminder)
            .where(
                Reminder.ticket_id == ticket.id,
                Reminder.kind.in_(("response_breached", "resolution_breached")),
                Reminder.status == ReminderStatus.SENT,
            )
            .order_by(Reminder.sent_at)
        )
    )


def _reply_templates() -> dict:
    """Active reply templates in the user's language, by kind."""
    rows = db.session.scalars(
        select(ReplyTemplate)
        .where(ReplyTemplate.active.is_(True), ReplyTemplate.locale == current_user.locale)
        .order_by(ReplyTemplate.title)
    )
    grouped: dict[str, list] = {}
    for row in rows:
        grouped.setdefault(row.kind.value, []).append(row)
    return grouped
