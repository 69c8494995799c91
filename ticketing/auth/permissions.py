"""Route guards: every staff route names who may use it."""

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from ticketing.roles import Role

STAFF = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
ADMINS = (Role.ADMIN,)


def roles_required(*roles):
    """Log in first; then 403 unless the user has one of `roles`."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator
