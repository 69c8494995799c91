"""The customer's private tracking links: unguessable tokens, stored only as hashes.

A case may have several valid links: the one shown after submitting, and each one e-mailed
(every e-mail mints its own at sending time, so no token ever waits in the database in clear).
A link works until staff revoke it, or until PORTAL_LINK_DAYS_AFTER_CLOSURE days after the case
closed — counted from the link's own creation when it was issued later (a fresh link asked for at
/track/lost works that long). A reopened case's links work again; revoked ones never do.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ForeignKey, String, and_, func, or_, select, update
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
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # staff ended the link

    ticket: Mapped[Ticket] = relationship()


@dataclass(frozen=True)
class LinkSummary:
    """What staff see of a case's links: how many work now, and when the customer last opened one."""

    live: int
    last_used_at: datetime | None
    ends_at: datetime | None  # when the links given before closure stop working (None: the case is open)


def _digest(token: str) -> str:
    # The token carries 192 random bits, so a plain SHA-256 cannot be reversed or brute-forced.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(days=current_app.config["PORTAL_LINK_DAYS_AFTER_CLOSURE"])


def _live(now: datetime) -> tuple:
    """The SQL conditions of a working link (PortalAccess joined to its Ticket)."""
    cutoff = now - _lifetime()
    return (
        PortalAccess.revoked_at.is_(None),
        or_(Ticket.closed_at.is_(None), Ticket.closed_at > cutoff, PortalAccess.created_at > cutoff),
    )


def _links_of(*conditions):
    return select(PortalAccess).join(Ticket, PortalAccess.ticket_id == Ticket.id).where(*conditions)


def issue_token(ticket: Ticket) -> str:
    """A new private link for the case; returns the token, which is never stored."""
    token = secrets.token_urlsafe(24)
    db.session.add(PortalAccess(ticket_id=ticket.id, token_hash=_digest(token), created_at=utcnow()))
    return token


def ticket_for_token(token: str | None) -> Ticket | None:
    """The case a working token opens, or None — the same answer, after the same single query, for a
    wrong token, a revoked or expired link and a missing case, so no answer tells them apart."""
    if not token or len(token) > 64:
        return None
    now = utcnow()
    found = db.session.execute(
        _links_of(PortalAccess.token_hash == _digest(token), *_live(now)).add_columns(Ticket)
    ).first()
    if found is None:
        return None
    access, ticket = found
    access.last_used_at = now
    return ticket


def link_still_opens(token: str, ticket_id: int) -> bool:
    """A portal session lasts while the link that opened it works: revoking or expiry ends it too."""
    if not token or len(token) > 64:
        return False
    found = _links_of(PortalAccess.token_hash == _digest(token), PortalAccess.ticket_id == ticket_id, *_live(utcnow()))
    return db.session.scalar(found.with_only_columns(PortalAccess.id)) is not None


def case_still_open_to_links(ticket: Ticket) -> bool:
    """For a session that carries no link (opened before links could end): it lasts while none of the
    case's links was revoked and the case has not been closed for longer than a link lives."""
    if ticket.closed_at is not None and ticket.closed_at <= utcnow() - _lifetime():
        return False
    revoked = select(PortalAccess.id).where(PortalAccess.ticket_id == ticket.id, PortalAccess.revoked_at.is_not(None))
    return db.session.scalar(revoked.limit(1)) is None


def link_ends_at(token: str, ticket: Ticket) -> datetime | None:
    """When this link stops working by itself (None while the case is open)."""
    if ticket.closed_at is None:
        return None
    access = db.session.scalar(select(PortalAccess).where(PortalAccess.token_hash == _digest(token)))
    start = max(ticket.closed_at, access.created_at) if access is not None else ticket.closed_at
    return start + _lifetime()


def link_summary(ticket: Ticket, now: datetime) -> LinkSummary:
    """How many of the case's links work and when one was last opened, in one query (the case page)."""
    live, last_used = db.session.execute(
        _links_of(PortalAccess.ticket_id == ticket.id).with_only_columns(
            func.count(PortalAccess.id).filter(and_(*_live(now))), func.max(PortalAccess.last_used_at)
        )
    ).one()
    return LinkSummary(
        live=live or 0,
        last_used_at=last_used,
        ends_at=ticket.closed_at + _lifetime() if ticket.closed_at is not None else None,
    )


def end_links(ticket: Ticket, now: datetime) -> int:
    """Revoke every link of the case not yet revoked (expired ones too, or reopening would bring them
    back); returns how many. Staged like any change: the caller's transaction commits it."""
    result = db.session.execute(
        update(PortalAccess)
        .where(PortalAccess.ticket_id == ticket.id, PortalAccess.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
