"""Job heartbeats (the last run of each scheduler job) and deliveries (one e-mail to one recipient)."""

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.extensions import db
from ticketing.types import UTCDateTime


class JobRun(db.Model):
    """The last run of each scheduler job, for the admin page."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)


class Delivery(db.Model):
    """One message of a reminder to one recipient over one channel: its own status, attempts,
    lease and Message-ID, so one refusing mailbox never holds back or repeats another's message."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("reminder_id", "recipient", "channel", name="uq_deliveries_reminder_id_recipient_channel"),
        Index("ix_deliveries_status_run_at", "status", "run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reminder_id: Mapped[int] = mapped_column(ForeignKey("reminders.id"))
    recipient: Mapped[str] = mapped_column(String(40))  # "user:<id>" or "customer"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))  # email (the channel a sender knows how to use)
    address: Mapped[str] = mapped_column(String(254))
    # pending -> sending (claimed) -> sent | failed after the last attempt | cancelled
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    reminder = relationship("Reminder")
    user = relationship("User")


class ReportSnapshot(db.Model):
    """A long report worked out by the scheduler instead of a web worker (scheduling/reports.py): what
    was asked for (a kind and its parameters, hashed into `key`), where the work is, and the result
    with the moment its figures were read (the page's "as of")."""

    __tablename__ = "report_snapshots"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_report_snapshots_kind_key"),
        Index("ix_report_snapshots_status_requested_at", "status", "requested_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))  # sha256 of the parameters, as canonical JSON
    parameters: Mapped[str] = mapped_column(Text)  # that JSON
    # wanted (asked for, or a fresher one asked for) -> working (a scheduler took it) -> ready | failed
    status: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the latest request for it
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the content's figures were read
    seconds: Mapped[float | None] = mapped_column(Float)  # how long the work took
    content: Mapped[str | None] = mapped_column(Text)  # the latest result (kept while a fresher one is worked out)
    error: Mapped[str | None] = mapped_column(Text)
