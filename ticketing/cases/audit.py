"""The record log: who did what to a case, when, and what changed from what to what.

Written by the services in the same transaction as the change it records. Append-only and
tamper-evident: each event carries a hash chained to the previous event of the same case
(see chain.py), and the database refuses UPDATE and DELETE on the table.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.auth.models import User
from ticketing.cases import chain
from ticketing.cases.models import Message, Note
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_ticket_id_id", "ticket_id", "id"),
        # One successor per event: two writers can never fork a case's chain.
        UniqueConstraint("ticket_id", "seq", name="uq_events_ticket_id_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A snapshot, so the log still reads right after a user is renamed; "customer" for the portal.
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40), index=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 … within the case
    prev_hash: Mapped[str | None] = mapped_column(String(64))  # None for a case's first event
    # The records this event wrote or changed, as written ({"table:id": {column: value}}; None: none).
    records: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    key_id: Mapped[str | None] = mapped_column(String(16))  # the audit key that sealed it (ticketing/sealing.py)
    hash: Mapped[str] = mapped_column(String(64))  # its seal: a keyed HMAC-SHA256

    actor: Mapped[User | None] = relationship()


def plain(value: Any) -> Any:
    """A JSON-safe form of a value for the log."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "reference"):
        return value.reference
    if hasattr(value, "email"):
        return value.email
    return str(value)


def new_event(
    ticket,
    actor,
    action: str,
    changes: dict[str, tuple[Any, Any]],
    at: datetime,
    actor_name: str = "customer",
    records: dict | None = None,
) -> Event:
    """One event of the log, before its place in the chain and its seal (chain.link_all, by Change.done_all);
    `changes` maps a field to (before, after), `records` holds the snapshots of the records it wrote
    (chain.snapshots). No actor: the customer, or the `actor_name` given (the scheduler)."""
    return Event(
        records=records,
        ticket_id=ticket.id,
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.name if actor is not None else actor_name,
        action=action,
        changes={field: [plain(old), plain(new)] for field, (old, new) in changes.items()},
        created_at=at,
    )


chain.protect(Event.__table__)
# What staff and customers said on a case is sealed as it was said.
chain.seal_records(Message)
chain.seal_records(Note)
