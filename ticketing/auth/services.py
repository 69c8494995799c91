"""Creating and changing staff accounts (admin pages and the CLI both call these)."""

from sqlalchemy import func, select

from ticketing import refusals
from ticketing.auth import passwords, security_log
from ticketing.auth.models import User
from ticketing.auth.security_log import Kind
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.roles import Role

MIN_PASSWORD_LENGTH = passwords.MIN_LENGTH


class AccountError(refusals.Refusal):
    """A refused change to an account; `field` names the form field it is about, when there is one."""

    status = refusals.UNPROCESSABLE

    def __init__(self, reason, field: str | None = None):
        super().__init__(reason, field=field)


def check_password_strength(password: str) -> None:
    """The policy of auth/passwords.py, for every way a password is set (forms, CLI, demo data)."""
    reason = passwords.weakness(password)
    if reason is not None:
        raise AccountError(reason, "password")


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
    acting: User | None = None,
) -> User:
    """A new active account; `acting` is the admin who made it (None: the command line)."""
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
    db.session.flush()
    details = {"email": user.email, "name": user.name, "role": user.role.value}
    security_log.record(Kind.USER_CREATED, actor=acting, subject=("user", user.id), details=details)
    return user


def change_password(user: User, new_password: str, acting: User | None = None) -> None:
    """A new password ends every other session of this user; `acting` set it (the user themselves
    unless an admin reset it)."""
    check_password_strength(new_password)
    user.set_password(new_password)
    security_log.record(Kind.PASSWORD_CHANGED, actor=acting or user, subject=("user", user.id))


def set_role(user: User, role: str, acting: User) -> None:
    """Admins change roles; nobody changes their own (an admin cannot demote themselves by mistake)."""
    if user.id == acting.id and role != user.role:
        raise AccountError(_l("You cannot change your own role."), "role")
    new = Role(role)
    if user.role != new:
        details = {"changes": {"role": [user.role.value, new.value]}}
        security_log.record(Kind.ROLE_CHANGED, actor=acting, subject=("user", user.id), details=details)
    user.role = new


def set_active(user: User, active: bool, acting: User) -> None:
    """Disabling a user ends their sessions at once; nobody can lock themselves out."""
    if user.id == acting.id and not active:
        raise AccountError(_l("You cannot disable your own account."))
    if user.active != active:
        details = {"changes": {"active": [user.active, active]}}
        security_log.record(Kind.ACTIVE_CHANGED, actor=acting, subject=("user", user.id), details=details)
    user.active = active
    if not active:
        user.end_sessions()
