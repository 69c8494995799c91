"""Everything the case page shows, gathered in one place so the view stays thin."""

from flask_login import current_user
from sqlalchemy import func, select

from ticketing.cases import fair_offers, reply_text, rework, workflow
from ticketing.cases.case_file import case_file
from ticketing.cases.deadlines import case_deadlines, pressing_deadlines, resolution_offered
from ticketing.cases.log_text import actor_label
from ticketing.cases.models import Reminder, ReplyTemplate, Ticket
from ticketing.cases.portal_access import link_summary
from ticketing.cases.precedents import precedents_for
from ticketing.cases.queries import needs_triage_among
from ticketing.cases.services.escalation import latest_escalation
from ticketing.cases.services.guarantee import open_suggestions
from ticketing.cases.settings import desk
from ticketing.cases.survey import phone_survey_offered
from ticketing.cases.vocabulary import STEP_ORDER, ReminderStatus, ResolutionState, Status, Step
from ticketing.clock import utcnow
from ticketing.desk.actions import SPECS, WORKFLOW_ACTIONS, build_form
from ticketing.extensions import db
from ticketing.notify import intake
from ticketing.notify.messages import KIND_LABELS


def offered(ticket) -> set[str]:
    """Desk actions the current user can take on this case now."""
    ctx = workflow.Context(ticket, current_user, {}, desk().compensation_limits)
    allowed = workflow.offered_actions(ctx)
    actions = {action for action in SPECS if action in allowed}
    for desk_action, names in WORKFLOW_ACTIONS.items():
        if any(name in allowed for name in names):
            actions.add(desk_action)
    if phone_survey_offered(ctx):  # at or after the follow-up
        actions.add("record_survey")
    return actions


def context(ticket, submitted: dict | None = None) -> dict:
    submitted = submitted or {}
    on_file = case_file(ticket)  # first: what the forms and panels ask of the records is answered from it
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
        **on_file,
        "current_index": STEP_ORDER.index(ticket.step),
        "is_open": ticket.status == Status.OPEN,
        "pressing": pressing_deadlines(ticket, utcnow()),
        "resolution_offered": resolution_offered(ticket),
        "deadlines": case_deadlines(ticket),
        "escalations": escalations(ticket),
        "escalated": escalated(ticket),
        "needs_triage": ticket.id in needs_triage_among([ticket.id]),
        "suggestions": open_suggestions(ticket),
        "kind_labels": KIND_LABELS,
        "actions": actions,
        "forms": forms,
        "unsaved": unsaved,
        "replies": reply_choices(ticket),
        "limit": fair_offers.straight_limit(current_user.role, desk()),
        "proportion": fair_offers.proportion_terms(ticket, desk()),
        "why_waiting": fair_offers.why_waiting(ticket)
        if ticket.resolution_state == ResolutionState.AWAITING_APPROVAL
        else None,
        # What similar closed cases received, beside the proposal and its approval (step 4 only).
        "precedents": precedents_for(ticket) if ticket.step == Step.RESOLVE and ticket.status == Status.OPEN else None,
        "other_cases": other_cases(ticket),
        # Why the step at hand is done again: the last proposal turned down, the review returned.
        "turned_down": rework.last_answer(ticket) if "propose" in actions else None,
        "returned": rework.returned(ticket),
        "mails": intake.mails_of(ticket.id),  # what came by e-mail (notify/intake.py)
        **private_links(ticket),
    }


def private_links(ticket) -> dict:
    """The customer's private links: how many work, when last opened, whether this user may revoke them."""
    links = link_summary(ticket, utcnow())
    ctx = workflow.Context(ticket, current_user, {"live_links": links.live})
    return {"links": links, "may_revoke_links": workflow.refusal("revoke_links", ctx) is None}


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


def escalated(ticket) -> dict | None:
    """The latest escalation, for the banner: by whom (or the scheduler), when, and why."""
    event = latest_escalation(ticket)
    if event is None:
        return None
    reason = (event.changes or {}).get("reason", [None, None])[1]
    return {"by": actor_label(event), "at": event.created_at, "reason": reason, "automatic": event.actor_id is None}


def reply_choices(ticket) -> dict:
    """Active reply templates by kind, filled in for this case: the case's language first, then the
    user's own when it differs. Each is (template, its text for this case, written in its language)."""
    languages = [ticket.customer.locale, current_user.locale]
    rows = db.session.scalars(
        select(ReplyTemplate)
        .where(ReplyTemplate.active.is_(True), ReplyTemplate.locale.in_(languages))
        .order_by(ReplyTemplate.locale != ticket.customer.locale, ReplyTemplate.title)
    )
    filled = {locale: reply_text.values(ticket, current_user, locale) for locale in set(languages)}
    grouped: dict[str, list] = {}
    for row in rows:
        try:
            text = reply_text.fill(row.body, filled[row.locale])
        except reply_text.PlaceholderError:  # saved before placeholders were checked: offered once corrected
            continue
        grouped.setdefault(row.kind.value, []).append((row, text))
    return grouped
