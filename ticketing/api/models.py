"""Remembered idempotent creations: the same Idempotency-Key and body answer the same case."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime


class IdempotentRequest(db.Model):
    """One creation made under an Idempotency-Key: the same key and body answer the same case."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotent_requests_user_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the canonical JSON body: a reused key with another body is refused.
    body_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
