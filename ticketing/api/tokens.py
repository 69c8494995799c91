"""Managing personal API tokens: create, list, revoke (the account page, the user admin and the CLI).

Services stage changes and never commit. Tokens are not case changes, so who did what is
written to the application log rather than to a case's record log.
"""
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ticketing.api.models import ApiToken, issue_token, revoke
from ticketing.auth.models import User
from ticketing.extensions import db

MAX_NAME_LENGTH = 80  # the column's width
MAX_ACTIVE_TOKENS = 20


class TokenError(Exception):
    """A refused token operation, with a message the user can read."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens: active ones first, newest first within each group."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())))


def active_token_count(user: User) -> int:
    return db.session.scalar(select(func.count(ApiToken.id))
                             .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))


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
        raise TokenError(_l("There are already %(n)d active tokens: revoke one that is no longer used first.",
                            n=MAX_ACTIVE_TOKENS))
    row, secret = issue_token(user, name, read_only)
    current_app.logger.info("API token %s… %r (%s) created for %s", row.hint, row.name,
                            "read-only" if read_only else "read-write", user.email)
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
    owner = db.session.get(User, token.user_id)  # also when the token is not flushed yet
    current_app.logger.info("API token %s… %r of %s revoked by %s", token.hint, token.name,
                            owner.email, actor.email)
