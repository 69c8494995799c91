"""Working time: deadlines count business hours when configured, every hour (24×7) otherwise."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketing.clock import as_utc


@dataclass(frozen=True)
class Calendar:
    """Working hours per weekday in a timezone, with holidays (no work that day) and make-up working
    days (调休: a weekend day worked, on the hours of the first working weekday). `week` None means
    around the clock, holidays included."""

    timezone: str = "Asia/Shanghai"
    week: dict | None = None  # weekday 0 (Monday) .. 6 -> (opens, closes), or None for a day off
    holidays: frozenset = field(default_factory=frozenset)
    workdays: frozenset = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, business_hours: dict | None, holidays, workdays, timezone: str) -> "Calendar":
        """From the settings' form: {"0": ["09:00", "18:00"], …, "6": None}, ISO dates."""
        week = None
        if business_hours:
            week = {
                int(day): (_clock_time(hours[0]), _clock_time(hours[1])) if hours else None
                for day, hours in business_hours.items()
            }
        return cls(
            timezone=timezone,
            week=week,
            holidays=frozenset(date.fromisoformat(d) for d in holidays),
            workdays=frozenset(date.fromisoformat(d) for d in workdays),
        )

    @classmethod
    def from_config(cls, config) -> "Calendar":
        """From environment-style settings: BUSINESS_HOURS "09:00-18:00", BUSINESS_DAYS, HOLIDAYS."""
        hours = config.get("BUSINESS_HOURS")
        days = set(config.get("BUSINESS_DAYS", range(7)))
        business = None
        if hours:
            opens, closes = hours.split("-")
            business = {str(day): ([opens, closes] if day in days else None) for day in range(7)}
        holidays = [d for d in config.get("HOLIDAYS", ()) if d]
        return cls.from_settings(business, holidays, (), config["BABEL_DEFAULT_TIMEZONE"])

    @property
    def around_the_clock(self) -> bool:
        return self.week is None

    def hours_of(self, day: date) -> tuple[time, time] | None:
        """(opens, closes) on `day`, or None when nobody works."""
        if day in self.holidays:
            return None
        if day in self.workdays:
            return self.week.get(day.weekday()) or next((h for _, h in sorted(self.week.items()) if h), None)
        return self.week.get(day.weekday())

    def add_hours(self, start: datetime, hours: float) -> datetime:
        """`start` plus `hours` of working time."""
        if self.around_the_clock:
            return start + timedelta(hours=hours)
        zone = ZoneInfo(self.timezone)
        current = start.astimezone(zone)
        remaining = timedelta(hours=hours)
        for _ in range(3660):  # ten years of days: a misconfigured calendar cannot loop for ever
            day = current.date()
            today = self.hours_of(day)
            if today is not None:
                opens, closes = (datetime.combine(day, moment, zone) for moment in today)
                if current < closes:
                    current = max(current, opens)
                    available = closes - current
                    if remaining <= available:
                        return as_utc(current + remaining)
                    remaining -= available
            current = datetime.combine(day + timedelta(days=1), time(0), zone)
        raise ValueError("The business calendar has no working hours.")


def _clock_time(text: str) -> time:
    """ "09:30" -> 09:30 (the minutes count: a half-past opening is common)."""
    hour, _, minute = text.strip().partition(":")
    return time(int(hour), int(minute or 0))


def desk_today(now: datetime, config) -> date:
    """Today's date where the desk works (a promise or a due date is a day there, not in UTC)."""
    return now.astimezone(ZoneInfo(config["BABEL_DEFAULT_TIMEZONE"])).date()
