"""Which section of the top bar the current page belongs to, so the bar marks it (aria-current="page")."""

from flask import request
from flask_login import current_user

BY_BLUEPRINT = {
    "review": "review",
    "replies": "replies",
    "insight": "insight",
    "insight_risk": "insight",
    "record_log": "record_log",
    "scheduler_admin": "scheduler",
    "mail_admin": "scheduler",  # the mail intake is read by the scheduler, and its page opens from there
    "settings_admin": "settings",
    "catalogues": "catalogues",
    "users": "users",
    "security_log": "security_log",
    "notifications": "notifications",
    "api": "account",  # the API reference opens from the account page, where tokens are made
}


def section(ticket=None) -> str | None:
    """The section of this request: a blueprint's own, the queue's view, a case under the queue it
    is in (the user's own cases or the team's), the account pages under the account."""
    endpoint, blueprint = request.endpoint or "", request.blueprint or ""
    if blueprint in BY_BLUEPRINT:
        return BY_BLUEPRINT[blueprint]
    if endpoint == "desk.intake":
        return "intake"
    if endpoint == "desk.queue":
        return "team" if request.args.get("view") == "team" else "mine"
    if endpoint.startswith("auth.") and endpoint not in ("auth.login", "auth.logout"):
        return "account"
    if ticket is not None and getattr(ticket, "assignee_id", None) is not None:
        return "mine" if current_user.is_authenticated and ticket.assignee_id == current_user.id else "team"
    if blueprint == "desk":
        return "team"  # a case without an assignee, a customer's record: the team's work
    return None
