"""In-app notifications: what a staff member sees under the bell."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime


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


class NoticePreference(db.Model):
    """How one staff member wants one kind of notice: in_app, email, both or off (no row: both)."""

    __tablename__ = "notice_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channels: Mapped[str] = mapped_column(String(10))


class Mailbox(db.Model):
    """A mailbox complaints are read from (MAIL_INTAKE names them): how far it has been read. The
    last UID is only valid with the UIDVALIDITY it was read under; a new UIDVALIDITY reads it again
    from the start (every mail already filed is known by its identity and filed once)."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class InboundMail(db.Model):
    """One mail read from a mailbox, kept whole (its raw bytes), with what the desk did with it: a new
    complaint, a message on a case, or nothing (an automatic reply, one of our own, a flood, a reply
    to a closed case, unreadable) — never dropped unseen."""

    __tablename__ = "inbound_mails"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "identity", name="uq_inbound_mails_mailbox_id_identity"),
        Index("ix_inbound_mails_outcome_received_at", "outcome", "received_at"),
        Index("ix_inbound_mails_sender_received_at", "sender", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id"))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    # What makes it the same mail again: its Message-ID with its sender, subject and text (a Message-ID
    # reused for another mail is another mail), or the SHA-256 of its bytes when it has none.
    identity: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(250))
    sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(250), default="")
    outcome: Mapped[str] = mapped_column(String(20))  # see notify/intake.py OUTCOMES
    note: Mapped[str | None] = mapped_column(Text)  # why it was not filed (the kind of automatic mail, the error)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    message_row_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    raw: Mapped[bytes] = mapped_column(LargeBinary)

    mailbox = relationship("Mailbox")
    ticket = relationship("Ticket")
