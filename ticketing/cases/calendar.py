"""Working time: deadlines count business hours when configured, every hour (24×7) otherwise."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ticketing.clock import as_utc


@dataclass(frozen=True)
class Calendar:
    """Business hours in a timezone; `opens is None` means around the clock."""

    timezone: str = "Asia/Shanghai"
    opens: time | None = None
    closes: time | None = None
    weekdays: frozenset = frozenset(range(7))
    holidays: frozenset = field(default_factory=frozenset)

    @classmethod
    def from_config(cls, config) -> "Calendar":
        hours = config.get("BUSINESS_HOURS")  # "09:00-18:00" or None
        opens = closes = None
        if hours:
            opens, closes = (_clock_time(part) for part in hours.split("-"))
        return cls(
            timezone=config["BABEL_DEFAULT_TIMEZONE"],
            opens=opens,
            closes=closes,
            weekdays=frozenset(config.get("BUSINESS_DAYS", range(7))),
            holidays=frozenset(date.fromisoformat(d) for d in config.get("HOLIDAYS", ()) if d),
        )

    @property
    def around_the_clock(self) -> bool:
        return self.opens is None

    def _working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def add_hours(self, start: datetime, hours: float) -> datetime:
        """`start` plus `hours` of working time."""
        if self.around_the_clock:
            return start + timedelta(hours=hours)
        zone = ZoneInfo(self.timezone)
        current = start.astimezone(zone)
        remaining = timedelta(hours=hours)
        for _ in range(3660):  # ten years of days: a misconfigured calendar cannot loop for ever
            day = current.date()
            opens = datetime.combine(day, self.opens, zone)
            closes = datetime.combine(day, self.closes, zone)
            if self._working_day(day) and current < closes:
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
