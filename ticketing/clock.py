"""The one clock every time-dependent rule reads, so tests can move time."""

from collections.abc import Callable
from datetime import datetime, timezone


def _system_clock() -> datetime:
    return datetime.now(timezone.utc)


_source: Callable[[], datetime] = _system_clock


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return _source()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the system clock."""
    global _source
    _source = source or _system_clock


def as_utc(value: datetime | None) -> datetime | None:
    """Normalise a datetime to aware UTC (SQLite hands back naive values)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
