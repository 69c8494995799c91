"""Login sessions: the cookie carries the user's session token, so rotating it ends them all.

A session also ends by itself: after SESSION_IDLE_MINUTES without a request (idle) and
SESSION_MAX_HOURS after the login whatever happened since (absolute). Both are desk settings
(cases/settings.py hands them here: this layer cannot read them itself); a session from before
these were kept has no login time and ends at once.
"""

from datetime import timedelta

from flask import flash, session
from flask_babel import force_locale
from sqlalchemy import select

from ticketing.auth.models import User
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
IDLE_MINUTES = 30  # until the settings say otherwise
MAX_HOURS = 12
SEEN_PRECISION = 60  # seconds: the last request's time is written again only once it is this old

_timeouts = None  # () -> (idle minutes, absolute hours), set by the desk's settings


def timeouts_from(source) -> None:
    global _timeouts
    _timeouts = source


def timeouts() -> tuple[int, float]:
    return _timeouts() if _timeouts is not None else (IDLE_MINUTES, MAX_HOURS)


def start() -> None:
    """At login (after session.clear()): the session's clocks start now."""
    now = utcnow().timestamp()
    session[SIGNED_IN_AT] = session[SEEN_AT] = now


def _ended_because(now: float):
    signed_in, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in, int | float) or not isinstance(seen, int | float):
        return _l("Your session has ended. Please log in again.")
    idle, absolute = timeouts()
    if now - signed_in > timedelta(hours=absolute).total_seconds():
        return _l("Your session has ended %(hours)s hours after you logged in. Please log in again.", hours=absolute)
    if now - seen > timedelta(minutes=idle).total_seconds():
        return _l(
            "Your session has ended after %(minutes)s minutes without activity. Please log in again.", minutes=idle
        )
    return None


def load_user(session_token: str) -> User | None:
    user = db.session.scalars(select(User).where(User.session_token == session_token)).first()
    if user is None or not user.active:
        return None
    now = utcnow().timestamp()
    reason = _ended_because(now)
    if reason is not None:
        session.clear()
        session["locale"] = user.locale  # the login page in their language, as before
        with force_locale(user.locale):  # not the locale selector: it asks who is logged in, which is being decided
            flash(str(reason), "info")
        return None
    if now - session[SEEN_AT] >= SEEN_PRECISION:
        session[SEEN_AT] = now
    return user
