"""Language and timezone per user, and the formatting helpers templates use."""

import re
from datetime import datetime
from functools import lru_cache

from babel import Locale, dates
from flask import current_app, g, has_request_context, request, session
from flask_babel import (
    format_date,
    format_datetime,
    format_time,
    get_locale,
    get_timezone,
    get_translations,
)
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

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

# The desk's one way of writing a moment and a day, per language: 2026年12月1日 16:20 / 1 Dec 2026, 16:20
# (no seconds, never month-first). Every page, e-mail, notice and the record log write times through
# when() and day(); machine formats (API JSON, CSV ISO columns, datetime attributes, iCalendar) stay ISO.
DATETIME_PATTERNS = {"zh": "y年M月d日 HH:mm", "en": "d MMM y, HH:mm"}
DATE_PATTERNS = {"zh": "y年M月d日", "en": "d MMM y"}
DAY_MONTH_PATTERNS = {"zh": "M月d日", "en": "d MMM"}  # a chart's axis, where the year is said once


def datetime_pattern(locale) -> str:
    return DATETIME_PATTERNS.get(locale.language, DATETIME_PATTERNS["en"])


def date_pattern(locale) -> str:
    return DATE_PATTERNS.get(locale.language, DATE_PATTERNS["en"])


def when(value, fmt: str = "medium") -> str:
    """A stored UTC time shown in the reader's timezone in the desk's format for the reader's language
    (every named format, "short" to "full", writes that one format); any other pattern is Babel's.

    A queue page shows two times per row, and Babel parses the pattern and builds every field at each
    call: here the pattern is compiled once per language into one small function per field (names of
    months read from Babel once), so a time costs a few microseconds. The language is asked for at
    every call, so force_locale (a notice in the customer's language) holds."""
    return writing_times(reader_locale(), reader_timezone())(value, fmt)


def writing_times(locale, zone):
    """when() for one language and timezone (a template binds it once per render: template_context)."""
    write = _compiled(locale.language, locale.territory, locale.script, datetime_pattern(locale)) if locale else None

    def when_written(value, fmt: str = "medium") -> str:
        if not value:
            return ""
        if write is None or fmt not in NAMED:
            return format_datetime(value, fmt)
        return write(value.astimezone(zone))

    return when_written


@lru_cache(maxsize=16)
def _compiled(language: str, territory: str | None, script: str | None, pattern: str):
    """The writer Babel would use for one pattern in one language."""
    return _writer(pattern, Locale(language, territory, script))


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
    """A date (or the reader's local day of a stored time) in the desk's format: 2026年12月1日 / 1 Dec 2026."""
    return format_date(value, date_pattern(get_locale())) if value else ""


def day_month(value) -> str:
    """A day without its year: 12月1日 / 1 Dec."""
    return format_date(value, DAY_MONTH_PATTERNS.get(get_locale().language, DAY_MONTH_PATTERNS["en"])) if value else ""


def when_in(value, zone) -> str:
    """when() in a given timezone rather than the reader's (a customer's notice, in the desk's zone)."""
    if not value:
        return ""
    locale = get_locale()
    return dates.format_datetime(value, datetime_pattern(locale), tzinfo=dates.get_timezone(zone), locale=locale)


def clock(value) -> str:
    """The reader's local time of day of a stored time, 24-hour: 16:20."""
    return format_time(value, "HH:mm") if value else ""


def duration(delta) -> str:
    """A time span as people say it: "3 hours", "2 days" (in the reader's language), rounded as Babel's
    format_timedelta(delta, threshold=1.5, granularity="minute") rounds it: the largest unit that counts
    at least 1.5, else minutes. Babel's wording is kept per language, unit and count, since working out
    the plural rule costs ~40 µs a call and a queue page says an age on every row."""
    seconds = abs(delta.days * 86400 + delta.seconds)
    for unit, unit_seconds in dates.TIMEDELTA_UNITS:
        value = seconds / unit_seconds
        if value >= 1.5 or unit == "minute":
            return _said(str(reader_locale()), unit, int(round(max(1, value) if value > 0 else value)))
    return ""  # not reached: minutes always count


@lru_cache(maxsize=2048)
def _said(locale: str, unit: str, count: int) -> str:
    """Babel's words for `count` of `unit`: with no threshold reached, Babel stops at the granularity."""
    seconds = count * dict(dates.TIMEDELTA_UNITS)[unit]
    return dates.format_timedelta(seconds, threshold=float("inf"), granularity=unit, locale=locale)


def labelled(label) -> str:
    """A label before its value, punctuated as the reader's language writes it: "Method: " / "方法："."""
    return f"{label}{colon()}"


def colon() -> str:
    """What follows a label in the reader's language (a template that marks the label up apart)."""
    return "：" if reader_locale().language == "zh" else ": "


def aside(text) -> str:
    """Words in brackets after a name: " (inactive)" / "（已停用）"."""
    return f"（{text}）" if reader_locale().language == "zh" else f" ({text})"


def _babel_state():
    """Where Flask-Babel keeps a request's chosen locale, timezone and catalogue (None outside one)."""
    return g.get("_flask_babel") if g else None


def reader_locale():
    """get_locale(), read straight from where Flask-Babel keeps it once chosen (force_locale sets the same
    place): a page writes dozens of times and labels, and each get_locale() costs three context look-ups."""
    return getattr(_babel_state(), "babel_locale", None) or get_locale()


def reader_timezone():
    """get_timezone(), read the same way."""
    return getattr(_babel_state(), "babel_tzinfo", None) or get_timezone()


def translations():
    """The reader's catalogue. Flask-Babel finds it through three context look-ups at every call (a queue
    page asks for a few hundred words: bench/README.md, #18); here it is kept beside Flask-Babel's own
    per-request state with the locale it was found for, and found again when the locale changes
    (force_locale: a notice written in the customer's language)."""
    state = _babel_state()
    kept = getattr(state, "desk_translations", None)
    if kept is not None and kept[0] is getattr(state, "babel_locale", None):
        return kept[1]
    found = get_translations()
    state = _babel_state()  # Flask-Babel makes its state on first use: it may exist only now
    if state is not None:
        state.desk_translations = (get_locale(), found)
    return found


def gettext(text, /, **variables) -> str:
    """flask_babel.gettext through translations(): the same words at one look-up instead of three."""
    found = translations().ugettext(text)
    return found % variables if variables else found


def lazy_gettext(text, /, **variables) -> LazyString:
    """flask_babel.lazy_gettext over gettext() above: a form's labels and choices, translated when shown."""
    return LazyString(gettext, text, **variables)


def install_template_gettext(env) -> None:
    """Templates translate through translations(): the words of a page cost one look-up each, not three."""
    env.install_gettext_callables(
        gettext=lambda text: translations().ugettext(text),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        pgettext=lambda context, text: translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )


def template_context() -> dict:
    """Per-render values every template may use. The words and times a page writes are bound here to
    the reader's catalogue, language and timezone (inside force_locale, the forced language), so each
    of a page's hundreds of words and dozens of times looks nothing up (bench/README.md, #18). Macros
    imported without the caller's context use the same functions through the environment's globals."""
    locale, catalogue = reader_locale(), translations()
    return {
        "now": utcnow(),
        "current_locale": "zh_CN" if locale.language == "zh" else "en",
        "gettext": _template_gettext(catalogue.ugettext),
        "ngettext": _template_ngettext(catalogue.ungettext),
        "when": writing_times(locale, reader_timezone()),
    }


def _template_gettext(find):
    """Jinja's "new style" gettext (autoescaped, formatted with its keywords: jinja2.ext) over one catalogue."""

    @pass_context
    def gettext(context, text, /, **variables):
        found = find(text)
        return (Markup(found) if context.eval_ctx.autoescape else found) % variables

    return gettext


def _template_ngettext(find):
    @pass_context
    def ngettext(context, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        found = find(singular, plural, num)
        return (Markup(found) if context.eval_ctx.autoescape else found) % variables

    return ngettext
