"""The one clock every time-dependent rule reads, so tests can move time."""
from datetime import datetime, timezone
from typing import Callable

_source: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return _source()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the system clock."""
    global _source
    _source = source or (lambda: datetime.now(timezone.utc))


def as_utc(value: datetime | None) -> datetime | None:
    """Normalise a datetime to aware UTC (SQLite hands back naive values)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
