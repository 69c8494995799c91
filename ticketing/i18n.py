"""Language and timezone per user, and the formatting helpers templates use."""

import re
from datetime import datetime
from functools import lru_cache

from babel import Locale, dates
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_timedelta, get_locale, get_timezone
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
    if g.get("reading_timezone"):  # a report worked out for a reader elsewhere (ticketing/insight/snapshots.py)
        return g.reading_timezone
    if has_request_context() and current_user.is_authenticated:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


NAMED = ("short", "medium", "long", "full")


def when(value, fmt: str = "medium") -> str:
    """A stored UTC time shown in the reader's timezone, exactly as Babel's format_datetime writes it.

    A queue page shows two times per row, and Babel parses the patterns and builds every field at
    each call: here each named format is compiled once per language into one small function per
    field (names of months, weekdays and AM/PM read from Babel once), so a time costs a few
    microseconds. The language is asked for at every call, so force_locale (a notice in the
    customer's language) holds."""
    if not value:
        return ""
    locale = get_locale() if fmt in NAMED else None
    if locale is None:
        return format_datetime(value, fmt)
    joined, date_part, time_part = _compiled(locale.language, locale.territory, locale.script, fmt)
    local = value.astimezone(get_timezone())
    return joined.replace("{0}", time_part(local)).replace("{1}", date_part(local))


@lru_cache(maxsize=16)
def _compiled(language: str, territory: str | None, script: str | None, fmt: str):
    """The datetime joiner and the date and time writers Babel would use for a named format."""
    locale = Locale(language, territory, script)
    return (
        dates.get_datetime_format(fmt, locale).replace("'", ""),
        _writer(dates.get_date_format(fmt, locale).pattern, locale),
        _writer(dates.get_time_format(fmt, locale).pattern, locale),
    )


def _writer(pattern: str, locale: Locale):
    """One pattern as a function of a local datetime: numbers written directly, names looked up in
    tables made by Babel itself, any other field (time zone names…) left to Babel."""
    parsed = dates.parse_pattern(pattern)
    fields = {key: _field(key, locale) for key in re.findall(r"%\((\w+)\)s", parsed.format)}

    def write(local) -> str:
        return parsed.format % {key: field(local) for key, field in fields.items()}

    return write


def _field(key: str, locale: Locale):
    char, width = key[0], len(key)
    babel = lambda local: dates.DateTimeFormat(local, locale)[key]  # noqa: E731
    sample = lambda **parts: babel(datetime(2001, 1, 1, **parts))  # noqa: E731
    numbers = {"d": "day", "H": "hour", "m": "minute", "s": "second"}
    if char in numbers and width <= 2:
        return lambda local: f"{getattr(local, numbers[char]):0{width}d}"
    if char == "h" and width <= 2:
        return lambda local: f"{local.hour % 12 or 12:0{width}d}"
    if char == "y" and width != 2:
        return lambda local: f"{local.year:0{width}d}"
    if char == "M":
        if width <= 2:
            return lambda local: f"{local.month:0{width}d}"
        names = [babel(datetime(2001, month, 1)) for month in range(1, 13)]
        return lambda local: names[local.month - 1]
    if char == "E":
        names = [babel(datetime(2001, 1, day)) for day in range(1, 8)]  # 1 January 2001 was a Monday
        return lambda local: names[local.weekday()]
    if char == "a":
        periods = (sample(hour=1), sample(hour=13))
        return lambda local: periods[local.hour >= 12]
    return babel


def day(value) -> str:
    return format_date(value, "medium") if value else ""


def duration(delta) -> str:
    """A time span as people say it: "3 hours", "2 days" (in the reader's language)."""
    return format_timedelta(delta, threshold=1.5, granularity="minute")


def template_context() -> dict:
    """Per-request values every template may use."""
    return {"now": utcnow(), "current_locale": "zh_CN" if get_locale().language == "zh" else "en"}
