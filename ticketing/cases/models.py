"""Customers, tickets and what is said on them. Step records live in records.py."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.auth.models import User
from ticketing.cases.vocabulary import (
    Channel,
    Priority,
    ReminderStatus,
    ReplyKind,
    ResolutionState,
    Status,
    Step,
)
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime, enum_type


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    # Digits only, so "138-0013 8000" and "13800138000" find the same customer.
    phone_digits: Mapped[str | None] = mapped_column(String(40), index=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A code of the value-tier catalogue (cases.catalogue), checked there.
    value_tier: Mapped[str] = mapped_column(String(32), default="standard")
    locale: Mapped[str] = mapped_column(String(10), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who changed the record last and when (None: never changed since it was made); a stale edit names
    # them. The version locks the record optimistically, as a case's does.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Set when this record was merged into another (the same person): its cases live there now.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    tickets: Mapped[list["Ticket"]] = relationship(back_populates="customer", foreign_keys="Ticket.customer_id")
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    merged_into: Mapped["Customer | None"] = relationship(remote_side=[id])


class ReferenceCounter(db.Model):
    """The last reference number handed out per year (C-2026-000123)."""

    __tablename__ = "reference_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(db.Model):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_created_at_id", "created_at", "id"),
        Index("ix_tickets_resolution_due_at_id", "resolution_due_at", "id"),
        Index("ix_tickets_priority_rank_id", "priority_rank", "id"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        Index("ix_tickets_status_step", "status", "step"),
        # The team queue: one status, in the order chosen, read from the index a page at a time.
        Index("ix_tickets_status_resolution_due_at_id", "status", "resolution_due_at", "id"),
        Index("ix_tickets_status_created_at_id", "status", "created_at", "id"),
        Index("ix_tickets_status_priority_rank_id", "status", "priority_rank", "id"),
        Index("ix_tickets_status_updated_at_id", "status", "updated_at", "id"),
        Index("ix_tickets_assignee_id_status", "assignee_id", "status"),
        # The latest closed cases of a category or of a product: what precedents walk (precedents.py).
        Index("ix_tickets_category_status_closed_at", "category", "status", "closed_at"),
        Index("ix_tickets_product_id_status_closed_at", "product_id", "status", "closed_at"),
        # The cases closed in a period, with what the team page reads of them (risk.py, insight/team.py).
        Index("ix_tickets_status_closed_at", "status", "closed_at", "assignee_id", "created_at"),
        # The complaints of the last weeks by category and product: the early warnings (early_warning.py).
        Index("ix_tickets_created_at_category", "created_at", "category", "product_id", "merged_into_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    # A code of the category catalogue (cases.catalogue), checked there.
    category: Mapped[str | None] = mapped_column(String(32), index=True)
    # The product as typed, and the catalogue's product it names (None: the text names none yet).
    product: Mapped[str | None] = mapped_column(String(120))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    # What the customer said they would like, in their own words (portal and API intake).
    customer_expectation: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[Priority] = mapped_column(enum_type(Priority), default=Priority.NORMAL)
    priority_rank: Mapped[int] = mapped_column(Integer, default=2)
    step: Mapped[Step] = mapped_column(enum_type(Step), default=Step.LISTEN)
    status: Mapped[Status] = mapped_column(enum_type(Status), default=Status.OPEN)
    resolution_state: Mapped[ResolutionState] = mapped_column(enum_type(ResolutionState), default=ResolutionState.NONE)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    analysed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promised_date: Mapped[date | None] = mapped_column(Date)
    # When the customer started considering a proposal: the resolution clock stands still meanwhile.
    clock_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    follow_up_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    review_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    review_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    customer: Mapped[Customer] = relationship(back_populates="tickets", foreign_keys=[customer_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    merged_into: Mapped["Ticket | None"] = relationship(remote_side=[id])


class Note(db.Model):
    """An internal note: staff only, never shown to the customer."""

    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship()


class Message(db.Model):
    """A customer-visible message, from staff or from the customer (author None)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User | None] = relationship()

    @property
    def from_customer(self) -> bool:
        return self.author_id is None


class ReplyTemplate(db.Model):
    """Wording staff can insert into a step form; maintained by supervisors, per language."""

    __tablename__ = "reply_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ReplyKind] = mapped_column(enum_type(ReplyKind))
    locale: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


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
    status: Mapped[str] = mapped_column(String(20), default=ReminderStatus.PENDING)
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
