"""The customer's private tracking links: unguessable tokens, stored only as hashes.

A case may have several valid links: the one shown after submitting, and each one e-mailed
(every e-mail mints its own at sending time, so no token ever waits in the database in clear).
"""

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.cases.models import Ticket
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime


class PortalAccess(db.Model):
    __tablename__ = "portal_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship()


def _digest(token: str) -> str:
    # The token carries 192 random bits, so a plain SHA-256 cannot be reversed or brute-forced.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(ticket: Ticket) -> str:
    """A new private link for the case; returns the token, which is never stored."""
    token = secrets.token_urlsafe(24)
    db.session.add(PortalAccess(ticket_id=ticket.id, token_hash=_digest(token), created_at=utcnow()))
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
