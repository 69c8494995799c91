"""Personal API tokens and remembered idempotent creations.

A token is shown once and stored only as a SHA-256 digest (it carries 256 random bits,
so the digest cannot be reversed); the first characters are kept in clear so a user
can tell their tokens apart in the list.
"""
import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.auth.models import User
from ticketing.extensions import db
from ticketing.scheduling.clock import utcnow
from ticketing.types import UTCDateTime

TOKEN_PREFIX = "tk_"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, in clear, to recognise the token in a list ("tk_Ab3x…").
    hint: Mapped[str] = mapped_column(String(12))
    # A read-only token (for BI tools) may only GET.
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


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


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, name: str, read_only: bool = False) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the secret, which is never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip(), token_hash=digest(secret), hint=secret[:8],
                   read_only=read_only, created_at=utcnow())
    db.session.add(row)
    return row, secret


def token_for(secret: str | None) -> ApiToken | None:
    """The active token of an active user matching `secret`, or None for anything else."""
    if not secret or len(secret) > 100:
        return None
    wanted = digest(secret)
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == wanted))
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    if not row.active or not row.user.active:
        return None
    return row


def revoke(row: ApiToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
