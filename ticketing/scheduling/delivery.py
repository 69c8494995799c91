"""Delivering one claimed reminder: who receives it, what it says, in-app and by e-mail."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from ticketing.auth.models import User
from ticketing.cases.deadlines import overdue_condition
from ticketing.cases.models import Reminder, Ticket
from ticketing.cases.portal_access import issue_token
from ticketing.cases.reminders import STATE_KINDS, desired_reminders
from ticketing.cases.vocabulary import ReminderStatus, ResolutionState, Role, Status
from ticketing.extensions import db
from ticketing.notify import email, messages
from ticketing.notify.models import Notification


def still_needed(reminder: Reminder) -> bool:
    """A state reminder goes out only if the case still needs it (a closed case gets none).
    A late warning still goes out: the breach itself is only escalated to the supervisors."""
    if reminder.kind not in STATE_KINDS:
        return True
    return reminder.key in desired_reminders(reminder.ticket)


def recipients(reminder: Reminder) -> list[User]:
    if reminder.audience == "customer":
        return []
    if reminder.user_id is not None:
        user = db.session.get(User, reminder.user_id)
        if user is not None and user.active:
            return [user]
        if reminder.audience == "user":  # a personal digest is for its owner alone
            return []
    return list(
        db.session.scalars(
            select(User).where(User.active.is_(True), User.role.in_([Role.SUPERVISOR, Role.ADMIN])).order_by(User.id)
        )
    )


def details_for(reminder: Reminder, user: User | None, now: datetime) -> dict:
    ticket = reminder.ticket
    if reminder.kind == "daily_digest":
        return _digest(user, now)
    if ticket is None:  # about no case (early warning, win-back): it says what it was made with
        return {**(reminder.details or {}), "due_at": reminder.due_at.isoformat()}
    details = {"reference": ticket.reference, "subject": ticket.subject, "due_at": reminder.due_at.isoformat()}
    if ticket.promised_date:
        details["promised_date"] = ticket.promised_date.isoformat()
    if reminder.kind in ("satisfaction_survey", "portal_link"):
        details["customer"] = ticket.customer.name
    if reminder.audience == "customer":
        # Minted now, in the same transaction that marks the e-mail sent: never stored in clear.
        details["link"] = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/track/{issue_token(ticket)}"
    return details


def _digest(user: User, now: datetime) -> dict:
    mine = (Ticket.status == Status.OPEN, Ticket.assignee_id == user.id)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    end_of_day = now.astimezone(zone).replace(hour=23, minute=59, second=59)
    count = lambda *conditions: db.session.scalar(select(func.count(Ticket.id)).where(*conditions))  # noqa: E731
    # Only open cases wait for approval; the status also lets the count use an index, not read every ticket.
    approvals = (
        count(Ticket.status == Status.OPEN, Ticket.resolution_state == ResolutionState.AWAITING_APPROVAL)
        if user.is_supervisor
        else 0
    )
    return {
        "open": count(*mine),
        "overdue": count(*mine, overdue_condition(now)),
        "follow_ups": count(*mine, Ticket.follow_up_due_at <= end_of_day),
        "approvals": approvals,
    }


def deliver(reminder: Reminder, now: datetime) -> str:
    """Stage the in-app notifications and send the e-mails; the caller commits or rolls back.

    Returns the reminder's new status: "sent", or "skipped" when there was no way to reach anyone.
    """
    if reminder.audience == "customer":
        return _email_customer(reminder, now)
    users = recipients(reminder)
    if not users:
        return ReminderStatus.SKIPPED
    for user in users:
        details = details_for(reminder, user, now)
        db.session.add(
            Notification(
                user_id=user.id,
                reminder_id=reminder.id,
                ticket_id=reminder.ticket_id,
                kind=reminder.kind,
                details=details,
                created_at=now,
            )
        )
        if email.smtp_configured():
            subject, text = messages.render(reminder.kind, details, user.locale)
            email.send(
                email.build_message(
                    to=user.email,
                    to_name=user.name,
                    subject=subject,
                    body=text,
                    token=f"reminder-{reminder.id}-user-{user.id}",
                    locale=user.locale,
                )
            )
    return ReminderStatus.SENT


def _email_customer(reminder: Reminder, now: datetime) -> str:
    customer = reminder.ticket.customer
    if not customer.email or not email.smtp_configured():
        return ReminderStatus.SKIPPED
    details = details_for(reminder, None, now)
    subject, text = messages.render(reminder.kind, details, customer.locale)
    email.send(
        email.build_message(
            to=customer.email,
            to_name=customer.name,
            subject=subject,
            body=text,
            token=f"reminder-{reminder.id}-customer",
            locale=customer.locale,
        )
    )
    return ReminderStatus.SENT
