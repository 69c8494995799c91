"""Helpers shared by the scheduler tests: reading reminders and notifications back."""

from datetime import datetime, timezone

from sqlalchemy import func, select

# The frozen clock's first instant: Tuesday 24 November 2026, 09:00 UTC = 17:00 in Shanghai.
from ticketing.cases.models import Reminder
from ticketing.extensions import db
from ticketing.notify.models import Notification

# The frozen clock's first instant: Tuesday 24 November 2026, 09:00 UTC = 17:00 in Shanghai.
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def reminders_of(ticket, kind=None, status=None) -> list[Reminder]:
    query = select(Reminder).where(Reminder.ticket_id == ticket.id).order_by(Reminder.id)
    if kind is not None:
        query = query.where(Reminder.kind == kind)
    if status is not None:
        query = query.where(Reminder.status == status)
    return list(db.session.scalars(query))


def pending(ticket, audience="staff") -> dict[str, list[Reminder]]:
    """kind -> the pending reminders of that kind, for the staff (or for the customer)."""
    found: dict[str, list[Reminder]] = {}
    for reminder in reminders_of(ticket, status="pending"):
        if (reminder.audience == "customer") == (audience == "customer"):
            found.setdefault(reminder.kind, []).append(reminder)
    return found


def only_pending(ticket, kind) -> Reminder:
    rows = pending(ticket).get(kind, [])
    assert len(rows) == 1, f"{kind}: {len(rows)} pending"
    return rows[0]


def notifications(user=None, kind=None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def reminder_count() -> int:
    return db.session.scalar(select(func.count(Reminder.id)))
