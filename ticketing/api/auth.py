"""Bearer-token authentication for the API: the token's owner acts with their own role.

Only the token counts: a browser's session cookie is ignored here, so no cross-site form
can use the API on a signed-in user's behalf (the API is exempt from CSRF for that reason).
"""

from datetime import timedelta

from flask import abort, g, request

from ticketing.api.problems import ApiProblem
from ticketing.auth.tokens import token_for
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import gettext as _

READ_METHODS = {"GET", "HEAD", "OPTIONS"}
LAST_USED_RESOLUTION = timedelta(minutes=5)  # fewer writes: "last used" to the nearest few minutes


def bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def _token():
    """The request's valid token (looked up once per request), or None."""
    if "api_token_lookup" not in g:
        g.api_token_lookup = token_for(bearer())
    return g.api_token_lookup


def rate_limit_key() -> str:
    """Per valid token; per address for everything else, so made-up tokens share one small allowance."""
    token = _token()
    return f"api-token:{token.id}" if token is not None else "api-address:" + (request.remote_addr or "unknown")


def authenticate() -> None:
    """Set g.api_user from the token, or answer 401 (no or bad token) / 403 (read-only token)."""
    token = _token()
    if token is None:
        abort(401)
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    g.api_token, g.api_user = token, token.user
    g._login_user = token.user  # flask-login's current_user is the token's owner for this request
    if token.read_only and request.method not in READ_METHODS:
        raise ApiProblem(403, "read-only-token", _("This token is read-only: it may only read."))
