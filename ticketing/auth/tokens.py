"""Personal API tokens: the rows, and managing them (the account page, the user admin and the CLI).

A token is shown once and stored only as a SHA-256 digest (it carries 256 random bits,
so the digest cannot be reversed); the first characters are kept in clear so a user
can tell their tokens apart in the list.

Services stage changes and never commit. Tokens are not case changes: who created or revoked
which is written to the security log (ticketing/auth/security_log.py), not to a case's record log.
"""

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing import refusals
from ticketing.auth import security_log
from ticketing.auth.models import User
from ticketing.auth.security_log import Kind
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
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


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User, name: str, read_only: bool = False) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the secret, which is never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_hash=digest(secret),
        hint=secret[:8],
        read_only=read_only,
        created_at=utcnow(),
    )
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


MAX_NAME_LENGTH = 80  # the column's width
MAX_ACTIVE_TOKENS = 20


class TokenError(refusals.Refusal):
    """A refused token operation, with a message the user can read."""

    status = refusals.UNPROCESSABLE


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens: active ones first, newest first within each group."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def active_token_count(user: User) -> int:
    return db.session.scalar(
        select(func.count(ApiToken.id)).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )


def create_token(user: User, name: str, read_only: bool = False) -> tuple[ApiToken, str]:
    """A new token for an active user, named 1-80 characters, at most MAX_ACTIVE_TOKENS active.

    Returns the row and the secret; the secret is never stored and cannot be shown again.
    """
    name = (name or "").strip()
    if not name:
        raise TokenError(_l("Give the token a name, so you can tell it apart later."))
    if len(name) > MAX_NAME_LENGTH:
        raise TokenError(_l("A token name has at most %(n)d characters.", n=MAX_NAME_LENGTH))
    if not user.active:
        raise TokenError(_l("A disabled account cannot get new tokens."))
    if active_token_count(user) >= MAX_ACTIVE_TOKENS:
        raise TokenError(
            _l("There are already %(n)d active tokens: revoke one that is no longer used first.", n=MAX_ACTIVE_TOKENS)
        )
    row, secret = issue_token(user, name, read_only)
    db.session.flush()
    _record(Kind.TOKEN_CREATED, actor=user, token=row)
    return row, secret


def token_visible_to(actor: User, token_id: int) -> ApiToken | None:
    """The token with this id if `actor` may manage it (their own, or any for an admin), else None.

    Another user's token looks exactly like a missing one, so ids reveal nothing.
    """
    token = db.session.get(ApiToken, token_id)
    if token is None or not (token.user_id == actor.id or actor.is_admin):
        return None
    return token


def revoke_token(actor: User, token: ApiToken) -> None:
    """The owner may revoke their own token; an admin may revoke anyone's. Revoking is final."""
    if token.user_id != actor.id and not actor.is_admin:
        raise TokenError(_l("You may revoke only your own tokens."))
    if not token.active:
        raise TokenError(_l("This token is already revoked."))
    revoke(token)
    _record(Kind.TOKEN_REVOKED, actor=actor, token=token)


def _record(kind: Kind, *, actor: User, token: ApiToken) -> None:
    """Which token (its name and the characters shown in lists, never the secret), whose, by whom."""
    details = {"name": token.name, "hint": token.hint, "read_only": token.read_only}
    security_log.record(kind, actor=actor, subject=("token", token.id), account=token.user_id, details=details)
