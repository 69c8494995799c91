"""The settings in words for the settings page and its history: who may change a section, and each
stored value as people read it (the labels are the domain's: cases/settings_labels.py)."""

from datetime import date
from decimal import Decimal

from babel.dates import get_day_names
from babel.lists import format_list
from flask_babel import format_decimal, format_percent, get_locale

from ticketing.cases import catalogue
from ticketing.cases.settings import ADMINS, SECTIONS
from ticketing.cases.vocabulary import CompensationType, Priority, Responsibility, Role, label_for
from ticketing.i18n import day
from ticketing.i18n import lazy_gettext as _l

EDITORS = {
    "supervisors": _l("Supervisors and administrators may change these settings."),
    "admins": _l("Only administrators may change these settings: they set the supervisors' own limit."),
    "four_eyes": _l("Only administrators may change these settings: they say what supervisors may do alone."),
    "sessions": _l("Only administrators may change these settings: how long a login lasts is a matter of security."),
}


def editors(section: str):
    """Who may change the section, in a sentence."""
    if section in EDITORS:
        return EDITORS[section]
    return EDITORS["admins" if SECTIONS[section] == ADMINS else "supervisors"]


def describe(key: str, value) -> list[str]:
    """A stored value as lines to read (one line for a single value)."""
    if value is None and key != "business_hours":
        return ["—"]
    return DESCRIBERS.get(key, lambda v: [_plain(v)])(value)


def _plain(value) -> str:
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, int | float | Decimal):
        return format_decimal(value)
    return str(value)


def _hours(value) -> str:
    return format_decimal(value)


def _pairs(value: dict, label) -> list[str]:
    return [
        str(
            _l(
                "%(name)s: first response %(response)s h, resolution %(resolution)s h",
                name=label(name),
                response=_hours(pair[0]),
                resolution=_hours(pair[1]),
            )
        )
        for name, pair in value.items()
    ] or [str(_l("none"))]


def weekday_names() -> list[str]:
    """Monday to Sunday in the reader's language."""
    names = get_day_names("wide", locale=get_locale())
    return [names[number] for number in range(7)]


def _week(value) -> list[str]:
    if value is None:
        return [str(_l("Around the clock"))]
    names = weekday_names()
    return [
        _named(names[int(weekday)], f"{hours[0]}–{hours[1]}" if hours else _l("day off"))
        for weekday, hours in sorted(value.items())
    ]


def _named(name, value) -> str:
    """ "Monday: 09:00–18:00", with the reader's language's colon."""
    return str(_l("%(name)s: %(value)s", name=name, value=value))


def _dates(value) -> list[str]:
    if not value:
        return [str(_l("none"))]
    return [format_list([day(date.fromisoformat(text)) for text in value], locale=get_locale())]


def _limits(value: dict) -> list[str]:
    return [_named(label_for(Role, role), format_decimal(Decimal(str(amount)))) for role, amount in value.items()]


def _guarantee(value: dict) -> list[str]:
    return [_named(label_for(Priority, priority), _lines(lines)) for priority, lines in value.items()]


def _lines(lines) -> str:
    if not lines:
        return str(_l("nothing"))
    words = [
        label_for(CompensationType, kind) + (f" {format_decimal(Decimal(str(amount)))}" if amount else "")
        for kind, amount in lines
    ]
    return format_list(words, locale=get_locale())


DESCRIBERS = {
    "deadline_hours": lambda v: _pairs(v, lambda name: label_for(Priority, name)),
    "category_deadline_hours": lambda v: _pairs(v, catalogue.category_label),
    "business_hours": _week,
    "holidays": _dates,
    "workdays": _dates,
    "compensation_limits": _limits,
    "service_guarantee": _guarantee,
    "at_risk_fraction": lambda v: [format_percent(v)],
    "proportion_factors": lambda v: [
        _named(label_for(Responsibility, name), format_decimal(f)) for name, f in v.items()
    ],
    "proportion_no_loss_amount": lambda v: [format_decimal(Decimal(str(v)))],
    "digest_hour": lambda v: [f"{int(v):02d}:00"],
}
