"""The customer's private tracking link: an unguessable token, stored only as a hash."""
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.cases.models import Ticket
from ticketing.extensions import db
from ticketing.scheduling.clock import utcnow
from ticketing.types import UTCDateTime


class PortalAccess(db.Model):
    __tablename__ = "portal_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship()


def _digest(token: str) -> str:
    # The token carries 192 random bits, so a plain SHA-256 cannot be reversed or brute-forced.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(ticket: Ticket) -> str:
    """A new private link for the case (any earlier link stops working); returns the token once."""
    token = secrets.token_urlsafe(24)
    access = db.session.scalar(select(PortalAccess).where(PortalAccess.ticket_id == ticket.id))
    if access is None:
        access = PortalAccess(ticket_id=ticket.id)
        db.session.add(access)
    access.token_hash, access.created_at, access.last_used_at = _digest(token), utcnow(), None
    return token


def ticket_for_token(token: str | None) -> Ticket | None:
    """The case a token opens, or None — the same answer for a wrong token and a missing case."""
    if not token or len(token) > 64:
        return None
    digest = _digest(token)
    access = db.session.scalar(select(PortalAccess).where(PortalAccess.token_hash == digest))
    if access is None or not hmac.compare_digest(access.token_hash, digest):
        return None
    access.last_used_at = utcnow()
    return access.ticket
