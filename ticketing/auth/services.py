"""Creating and changing staff accounts (admin pages and the CLI both call these)."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ticketing import refusals
from ticketing.auth.models import User
from ticketing.extensions import db
from ticketing.roles import Role

MIN_PASSWORD_LENGTH = 10


class AccountError(refusals.Refusal):
    """A refused change to an account; `field` names the form field it is about, when there is one."""

    status = refusals.UNPROCESSABLE

    def __init__(self, reason, field: str | None = None):
        super().__init__(reason, field=field)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(_l("A password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH), "password")


def find_user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(func.lower(User.email) == email.strip().lower())).first()


def create_user(
    *,
    email: str,
    password: str,
    role: str,
    name: str | None = None,
    locale: str = "en",
    timezone: str = "Asia/Shanghai",
) -> User:
    email = email.strip().lower()
    if find_user_by_email(email) is not None:
        raise AccountError(_l("A user with this email already exists."), "email")
    if role not in {r.value for r in Role}:
        raise AccountError(_l("Unknown role."), "role")
    check_password_strength(password)
    user = User(
        email=email,
        name=(name or email.split("@")[0]).strip(),
        role=Role(role),
        locale=locale,
        timezone=timezone,
        active=True,
    )
    user.set_password(password)
    db.session.add(user)
    return user


def change_password(user: User, new_password: str) -> None:
    """A new password ends every other session of this user."""
    check_password_strength(new_password)
    user.set_password(new_password)


def set_role(user: User, role: str, acting: User) -> None:
    """Admins change roles; nobody changes their own (an admin cannot demote themselves by mistake)."""
    if user.id == acting.id and role != user.role:
        raise AccountError(_l("You cannot change your own role."), "role")
    user.role = Role(role)


def set_active(user: User, active: bool, acting: User) -> None:
    """Disabling a user ends their sessions at once; nobody can lock themselves out."""
    if user.id == acting.id and not active:
        raise AccountError(_l("You cannot disable your own account."))
    user.active = active
    if not active:
        user.end_sessions()
