"""Language and timezone per user, and the formatting helpers templates use."""

from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_timedelta, get_locale
from flask_login import current_user

from ticketing.clock import utcnow


def select_locale() -> str:
    """The staff member's choice, else this browser's choice, else Accept-Language."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.blueprint == "api" and request.accept_languages:  # an integration says what it wants
        return _from_accept_language()
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return _from_accept_language()


def _from_accept_language() -> str:
    best = request.accept_languages.best_match(["en", "zh_CN", "zh"], default="en")
    return "zh_CN" if best.startswith("zh") else "en"


def select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def when(value, fmt: str = "medium") -> str:
    """A stored UTC time shown in the reader's timezone."""
    return format_datetime(value, fmt) if value else ""


def day(value) -> str:
    return format_date(value, "medium") if value else ""


def duration(delta) -> str:
    """A time span as people say it: "3 hours", "2 days" (in the reader's language)."""
    return format_timedelta(delta, threshold=1.5, granularity="minute")


def template_context() -> dict:
    """Per-request values every template may use."""
    return {"now": utcnow(), "current_locale": "zh_CN" if get_locale().language == "zh" else "en"}
