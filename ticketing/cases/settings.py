"""The desk's own rules, set by its owners on the settings page and kept in the database.

Every web and scheduler process reads the same rows. A process keeps what it read with the settings'
version number and asks for that number once per request or job run (one primary-key read); when a
supervisor saved a change meanwhile, it reads the rows again. So a change is in force at the next
request in every process, with no restart, and no process can disagree with another for long.

The environment's values (config.py) are only where the first migration got its start: it seeds
every setting from them, and a setting missing from the table falls back to them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app, g
from sqlalchemy import JSON, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from ticketing import refusals
from ticketing.auth import security_log, sessions
from ticketing.cases.vocabulary import CompensationType, Priority, Responsibility, Role
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.types import UTCDateTime


class DeskSetting(db.Model):
    """One setting's current value (JSON), and who set it when."""

    __tablename__ = "desk_settings"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SettingChange(db.Model):
    """Each change ever made to a setting: who, when, the old and the new value."""

    __tablename__ = "setting_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), index=True)
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SettingsVersion(db.Model):
    """One row: bumped by every save, so each process knows when to read the settings again."""

    __tablename__ = "settings_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class SettingError(refusals.Refusal):
    """A value the settings page cannot take; `field` names the setting."""

    def __init__(self, reason, field: str):
        super().__init__(reason, field=field, status=refusals.UNPROCESSABLE)


# key -> (section, the roles who may change it)
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})
SECTIONS = {
    "deadlines": SUPERVISING,
    "calendar": SUPERVISING,
    "timing": SUPERVISING,
    "guarantee": SUPERVISING,
    # Who may grant how much, and in which money: not for supervisors, whose own limit it sets.
    "money": ADMINS,
    # Who must approve what (four eyes, a fair offer's allowance): not for those it checks.
    "four_eyes": ADMINS,
    # How long a login lasts: security, not the desk's workflow.
    "sessions": ADMINS,
}
KEYS = {
    "deadline_hours": "deadlines",
    "category_deadline_hours": "deadlines",
    "business_hours": "calendar",
    "holidays": "calendar",
    "workdays": "calendar",
    "compensation_limits": "money",
    "currency": "money",
    "service_guarantee": "guarantee",
    "follow_up_delay_hours": "timing",
    "review_delay_hours": "timing",
    "promise_warning_hours": "timing",
    "at_risk_fraction": "timing",
    "reopen_days": "timing",
    "digest_hour": "timing",
    "auto_escalate_on_breach": "timing",
    "reminder_retention_days": "timing",
    "one_person_desk": "four_eyes",
    "proportion_factors": "four_eyes",
    "proportion_no_loss_amount": "four_eyes",
    "session_idle_minutes": "sessions",
    "session_max_hours": "sessions",
}

# A fair offer's allowance: the estimated loss times the factor of whoever was found responsible
# (cases/fair_offers.py). The company's own fault allows up to twice the loss; a shared or a third
# party's fault the loss itself; the customer's own half of it. Above it, a reason and an approval.
PROPORTION_FACTORS = {"company": 2.0, "shared": 1.0, "third_party": 1.0, "customer": 0.5}
PROPORTION_NO_LOSS_AMOUNT = "100.00"  # with no loss entered, compensation above this is out of proportion
# A login ends after this long without a request, and this long after it began (auth/sessions.py).
SESSION_IDLE_MINUTES = sessions.IDLE_MINUTES
SESSION_MAX_HOURS = sessions.MAX_HOURS


@dataclass(frozen=True)
class DeskSettings:
    """What the desk's rules say now. Hours are numbers; dates ISO strings; money Decimal."""

    deadline_hours: dict = field(default_factory=dict)  # priority -> (response hours, resolution hours)
    category_deadline_hours: dict = field(default_factory=dict)  # category -> (response, resolution)
    business_hours: dict | None = None  # weekday "0".."6" -> ["09:00", "18:00"] or None; None: 24x7
    holidays: tuple = ()  # ISO dates with no work, whatever their weekday
    workdays: tuple = ()  # ISO dates worked though their weekday is off (调休: make-up working days)
    compensation_limits: dict = field(default_factory=dict)  # role -> Decimal
    currency: str = "CNY"
    service_guarantee: dict = field(default_factory=dict)  # priority -> [(type, amount or None)]
    follow_up_delay_hours: float = 48
    review_delay_hours: float = 24
    promise_warning_hours: float = 24
    at_risk_fraction: float = 0.75
    reopen_days: int = 30
    digest_hour: int = 8
    auto_escalate_on_breach: bool = False
    reminder_retention_days: int = 90  # sent and cancelled reminder rows older than this are removed
    one_person_desk: bool = False  # True: one person may handle and approve a case alone (recorded on it)
    proportion_factors: dict = field(default_factory=dict)  # responsibility -> float
    proportion_no_loss_amount: Decimal = Decimal(PROPORTION_NO_LOSS_AMOUNT)
    session_idle_minutes: int = SESSION_IDLE_MINUTES
    session_max_hours: int = SESSION_MAX_HOURS


def from_config(config) -> dict:
    """Every setting's value as the environment (config.py) gives it: the seed and the fallback."""
    hours = config.get("BUSINESS_HOURS")
    days = [int(d) for d in config.get("BUSINESS_DAYS", range(7))]
    business = None
    if hours:
        opens, closes = (_clock(part, "business_hours") for part in hours.split("-"))
        business = {str(day): ([opens, closes] if day in days else None) for day in range(7)}
    return {
        "deadline_hours": {k: [float(h) for h in v] for k, v in config["DEADLINE_HOURS"].items()},
        "category_deadline_hours": {
            k: [float(h) for h in v] for k, v in config.get("CATEGORY_DEADLINE_HOURS", {}).items()
        },
        "business_hours": business,
        "holidays": sorted({d.strip() for d in config.get("HOLIDAYS", []) if d.strip()}),
        "workdays": [],
        "compensation_limits": {k: _cents(v) for k, v in config["COMPENSATION_LIMITS"].items()},
        "currency": config["DEFAULT_CURRENCY"],
        "service_guarantee": {
            k: [[kind, _cents(amount) if amount is not None else None] for kind, amount in v]
            for k, v in config["SERVICE_GUARANTEE"].items()
        },
        "follow_up_delay_hours": float(config["FOLLOW_UP_DELAY_HOURS"]),
        "review_delay_hours": float(config["REVIEW_DELAY_HOURS"]),
        "promise_warning_hours": float(config["PROMISE_WARNING_HOURS"]),
        "at_risk_fraction": float(config["AT_RISK_FRACTION"]),
        "reopen_days": int(config["REOPEN_DAYS"]),
        "digest_hour": int(config["DIGEST_HOUR"]),
        "auto_escalate_on_breach": bool(config.get("AUTO_ESCALATE_ON_BREACH", False)),
        "reminder_retention_days": int(config.get("REMINDER_RETENTION_DAYS", 90)),
        "one_person_desk": False,  # four eyes unless an administrator decides otherwise, never from the environment
        "proportion_factors": dict(PROPORTION_FACTORS),
        "proportion_no_loss_amount": PROPORTION_NO_LOSS_AMOUNT,
        "session_idle_minutes": SESSION_IDLE_MINUTES,
        "session_max_hours": SESSION_MAX_HOURS,
    }


def _cents(amount) -> str:
    return str(Decimal(str(amount)).quantize(Decimal("0.01")))


def _plain(amount) -> Decimal:
    """An amount as people write it: 20000, not 20000.00 (cents kept when there are some)."""
    value = Decimal(str(amount))
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value


def _build(values: dict) -> DeskSettings:
    return DeskSettings(
        deadline_hours={k: tuple(float(h) for h in v) for k, v in values["deadline_hours"].items()},
        category_deadline_hours={k: tuple(float(h) for h in v) for k, v in values["category_deadline_hours"].items()},
        business_hours=values["business_hours"],
        holidays=tuple(values["holidays"]),
        workdays=tuple(values["workdays"]),
        compensation_limits={k: _plain(v) for k, v in values["compensation_limits"].items()},
        currency=values["currency"],
        service_guarantee={
            k: [(kind, _plain(amount) if amount is not None else None) for kind, amount in v]
            for k, v in values["service_guarantee"].items()
        },
        follow_up_delay_hours=float(values["follow_up_delay_hours"]),
        review_delay_hours=float(values["review_delay_hours"]),
        promise_warning_hours=float(values["promise_warning_hours"]),
        at_risk_fraction=float(values["at_risk_fraction"]),
        reopen_days=int(values["reopen_days"]),
        digest_hour=int(values["digest_hour"]),
        auto_escalate_on_breach=bool(values["auto_escalate_on_breach"]),
        reminder_retention_days=int(values["reminder_retention_days"]),
        one_person_desk=bool(values["one_person_desk"]),
        proportion_factors={k: float(v) for k, v in values["proportion_factors"].items()},
        proportion_no_loss_amount=_plain(values["proportion_no_loss_amount"]),
        session_idle_minutes=int(values["session_idle_minutes"]),
        session_max_hours=int(values["session_max_hours"]),
    )


def desk() -> DeskSettings:
    """The settings in force, read once per request or job run (and again only after a save)."""
    if "desk_settings" in g:
        return g.desk_settings
    version = db.session.scalar(select(SettingsVersion.version).where(SettingsVersion.id == 1)) or 0
    cached = current_app.extensions.get("desk_settings")  # (version, settings), shared by one process
    if cached is None or cached[0] != version:
        stored = {row.key: row.value for row in db.session.scalars(select(DeskSetting))}
        cached = (version, _build({**from_config(current_app.config), **stored}))
        current_app.extensions["desk_settings"] = cached
    g.desk_settings = cached[1]
    return cached[1]


def raw_values() -> dict:
    """Every setting as stored (JSON-ready), for the settings page and the API."""
    stored = {row.key: row.value for row in db.session.scalars(select(DeskSetting))}
    return {**from_config(current_app.config), **stored}


def may_change(user, key: str) -> bool:
    return user is not None and user.role in SECTIONS[KEYS[key]]


def save(user, changes: dict, now: datetime) -> list[str]:
    """Check every value, then write the ones that differ, each change recorded with who and when,
    and bump the version so every process reads them at its next request. Stages; the caller
    commits. Returns the keys that changed."""
    current = raw_values()
    cleaned = {}
    for key, value in changes.items():
        if key not in KEYS:
            raise SettingError(_l("There is no such setting."), key)
        if not may_change(user, key):
            raise SettingError(_l("Only an administrator may change this setting."), key)
        cleaned[key] = VALIDATORS[key](value, key)
    changed = [key for key, value in cleaned.items() if value != current.get(key)]
    for key in changed:
        row = db.session.get(DeskSetting, key) or DeskSetting(key=key)
        db.session.add(
            SettingChange(
                key=key, old_value=current.get(key), new_value=cleaned[key], changed_by_id=user.id, changed_at=now
            )
        )
        row.value, row.updated_at, row.updated_by_id = cleaned[key], now, user.id
        db.session.add(row)
        change = {"changes": {key: [current.get(key), cleaned[key]]}}
        security_log.record(security_log.Kind.SETTING_CHANGED, actor=user, subject=("setting", key), details=change)
    if changed:
        _bump_version()
    forget()
    return changed


def forget() -> None:
    """Read the settings again at the next use (after a save, or a change to the app's config)."""
    g.pop("desk_settings", None)
    current_app.extensions.pop("desk_settings", None)


def _bump_version() -> None:
    bumped = db.session.execute(
        update(SettingsVersion).where(SettingsVersion.id == 1).values(version=SettingsVersion.version + 1)
    ).rowcount
    if not bumped:
        db.session.add(SettingsVersion(id=1, version=1))


# --- checking what the page sends ------------------------------------------------------------


def _hours(value, key, allow_zero=False) -> float:
    try:
        hours = float(value)
    except (TypeError, ValueError):
        raise SettingError(_l("Enter a number of hours."), key) from None
    if hours != hours or hours < 0 or (hours == 0 and not allow_zero) or hours > 24 * 365:  # NaN too
        raise SettingError(_l("Enter a number of hours between 0 and 8760."), key)
    return hours


def _pairs(value, key) -> dict:
    if not isinstance(value, dict):
        raise SettingError(_l("Enter the first-response and resolution hours."), key)
    pairs = {}
    for name, pair in value.items():
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise SettingError(_l("Enter the first-response and resolution hours."), key)
        response, resolution = (_hours(h, key) for h in pair)
        if response > resolution:
            raise SettingError(_l("The first response cannot be due after the resolution."), key)
        pairs[str(name)] = [response, resolution]
    return pairs


def _deadline_hours(value, key) -> dict:
    pairs = _pairs(value, key)
    missing = {p.value for p in Priority} - set(pairs)
    if missing:
        raise SettingError(_l("Every priority needs its hours."), key)
    return pairs


def _clock(text, key) -> str:
    hour, _, minute = str(text).strip().partition(":")
    digits = hour.isascii() and minute.isascii() and hour.isdigit() and minute.isdigit()
    if not (digits and int(hour) < 24 and int(minute) < 60):
        raise SettingError(_l("Enter times as hours and minutes, e.g. 09:00."), key)
    return f"{int(hour):02d}:{int(minute):02d}"


def _business_hours(value, key) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SettingError(_l("Enter the opening hours of each weekday."), key)
    week = {}
    for day in range(7):
        hours = value.get(str(day))
        if hours is None:
            week[str(day)] = None
            continue
        if not isinstance(hours, list | tuple) or len(hours) != 2:
            raise SettingError(_l("Enter the opening hours of each weekday."), key)
        opens, closes = (_clock(part, key) for part in hours)
        if opens >= closes:
            raise SettingError(_l("A day must close after it opens."), key)
        week[str(day)] = [opens, closes]
    if not any(week.values()):
        raise SettingError(_l("At least one weekday must have working hours."), key)
    return week


def _dates(value, key) -> list:
    try:
        return sorted({date.fromisoformat(str(day).strip()).isoformat() for day in value or [] if str(day).strip()})
    except ValueError:
        raise SettingError(_l("Enter dates as YYYY-MM-DD."), key) from None


def _limits(value, key) -> dict:
    if not isinstance(value, dict) or set(value) != {r.value for r in Role}:
        raise SettingError(_l("Every role needs its limit."), key)
    return {role: str(_money(amount, key)) for role, amount in value.items()}


def _money(value, key) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise SettingError(_l("Enter an amount."), key) from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("100000000"):
        raise SettingError(_l("Enter an amount between 0 and 100,000,000."), key)
    return amount.quantize(Decimal("0.01"))


def _currency(value, key) -> str:
    text = str(value or "").strip().upper()
    if len(text) != 3 or not text.isalpha() or not text.isascii():
        raise SettingError(_l("Enter a three-letter currency code, e.g. CNY."), key)
    return text


def _guarantee(value, key) -> dict:
    if not isinstance(value, dict):
        raise SettingError(_l("Enter the guarantee of each priority."), key)
    types = {t.value for t in CompensationType}
    checked = {}
    for priority, lines in value.items():
        checked[str(priority)] = []
        if not isinstance(lines, list | tuple) or not all(
            isinstance(line, list | tuple) and len(line) == 2 for line in lines
        ):
            raise SettingError(_l("Enter the guarantee of each priority."), key)
        for kind, amount in lines:
            if kind not in types:
                raise SettingError(_l("Choose a kind of compensation."), key)
            checked[str(priority)].append([kind, str(_money(amount, key)) if amount not in (None, "") else None])
    return checked


def _number(low, high, kind=float):
    def check(value, key):
        try:
            number = kind(value)
        except (TypeError, ValueError, OverflowError):
            raise SettingError(_l("Enter a number."), key) from None
        if not low <= number <= high:  # NaN is refused here too
            raise SettingError(_l("Enter a number from %(low)s to %(high)s.", low=low, high=high), key)
        return number

    return check


def _factors(value, key) -> dict:
    """A factor per responsibility, each from 0 (no compensation without approval) to 100."""
    if not isinstance(value, dict) or set(value) != {r.value for r in Responsibility}:
        raise SettingError(_l("Every kind of responsibility needs its factor."), key)
    return {name: _number(0, 100)(factor, key) for name, factor in value.items()}


def _flag(value, key) -> bool:
    if not isinstance(value, bool):
        raise SettingError(_l("Choose yes or no."), key)
    return value


VALIDATORS = {
    "deadline_hours": _deadline_hours,
    "category_deadline_hours": _pairs,
    "business_hours": _business_hours,
    "holidays": _dates,
    "workdays": _dates,
    "compensation_limits": _limits,
    "currency": _currency,
    "service_guarantee": _guarantee,
    "follow_up_delay_hours": lambda v, k: _hours(v, k),
    "review_delay_hours": lambda v, k: _hours(v, k),
    "promise_warning_hours": lambda v, k: _hours(v, k, allow_zero=True),
    "at_risk_fraction": _number(0.05, 0.99),
    "reopen_days": _number(0, 365, int),
    "digest_hour": _number(0, 23, int),
    "auto_escalate_on_breach": _flag,
    "reminder_retention_days": _number(7, 3650, int),
    "one_person_desk": _flag,
    "proportion_factors": _factors,
    "proportion_no_loss_amount": lambda v, k: str(_money(v, k)),
    "session_idle_minutes": _number(5, 24 * 60, int),
    "session_max_hours": _number(1, 24 * 30, int),
}


def _session_timeouts() -> tuple[int, int]:
    settings = desk()
    return settings.session_idle_minutes, settings.session_max_hours


sessions.timeouts_from(_session_timeouts)
