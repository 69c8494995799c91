"""Login sessions: the cookie carries the user's session token, so rotating it ends them all."""

from sqlalchemy import select

from ticketing.auth.models import User
from ticketing.extensions import db


def load_user(session_token: str) -> User | None:
    user = db.session.scalars(select(User).where(User.session_token == session_token)).first()
    if user is None or not user.active:
        return None
    return user
