"""Reminder rows (the truth about what must be sent), in-app notifications, job heartbeats."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.extensions import db
from ticketing.scheduling.clock import utcnow
from ticketing.types import UTCDateTime


class Reminder(db.Model):
    """Something to deliver at `due_at`. `key` is unique, so the same reminder is never created twice."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_status_run_at", "status", "run_at"),
        Index("ix_reminders_ticket_id_status", "ticket_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: all supervisors, or the customer
    audience: Mapped[str] = mapped_column(String(20))  # assignee | supervisors | user | customer
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())  # due_at, or the next retry after a failure
    # pending -> sending (claimed) -> sent | failed after the last attempt; cancelled when the case moved on
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What a reminder about no case says (early warning, win-back), fixed when it is made.
    details: Mapped[dict | None] = mapped_column(JSON)

    ticket = relationship("Ticket")
    user = relationship("User")


class Notification(db.Model):
    """An in-app notification: what a staff member sees under the bell, read or not."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("reminder_id", "user_id", name="uq_notifications_reminder_id_user_id"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reminder_id: Mapped[int | None] = mapped_column(ForeignKey("reminders.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket = relationship("Ticket")


class JobRun(db.Model):
    """The last run of each scheduler job, for the admin page."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)
