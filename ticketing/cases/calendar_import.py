"""A year's holidays (or make-up working days) read from an iCalendar file (.ics), for the business calendar.

Public holiday calendars are published as .ics files: each VEVENT is a holiday, all-day as a rule, and
a multi-day holiday is one event whose end is the day after its last day (RFC 5545). This module only
reads dates; the settings store decides what they become (holidays or make-up working days).
"""

from datetime import date, datetime, timedelta

from ticketing import refusals, validation
from ticketing.cases import settings
from ticketing.i18n import lazy_gettext as _l

MAX_BYTES = 1_000_000  # a year's public holidays take a few kilobytes
MAX_DATES = 1000
LONGEST_EVENT = timedelta(days=366)  # no holiday lasts longer: such an event is not one
LISTS = ("holidays", "workdays")  # the settings a file's dates may go to


class UnreadableCalendar(refusals.Refusal):
    """The file is not an iCalendar file of holidays we can take; `field` names the upload."""

    def __init__(self, reason, field: str = "file"):
        super().__init__(reason, field=field, status=refusals.UNPROCESSABLE)


def add_dates_from_ics(user, data: bytes, key: str, now: datetime) -> list[str]:
    """Add every date of the file to the holidays or to the make-up working days (`key`), keeping the
    dates already there; saved through the settings store (recorded, in force at the next request).
    Stages; returns the dates that were not there before."""
    if key not in LISTS:
        raise settings.SettingError(_l("Choose holidays or make-up working days."), "kind")
    dates = dates_in_ics(data)
    current = settings.raw_values()[key]
    settings.save(user, {key: sorted({*current, *dates})}, now)
    return sorted(set(dates) - set(current))


def dates_in_ics(data: bytes) -> list[str]:
    """Every date the file's events cover (ISO, sorted, each once): an all-day event its days up to the
    day before its end, a timed event the days it touches. A recurring event counts with its first date."""
    if len(data) > MAX_BYTES:
        raise UnreadableCalendar(_l("The file is too large for a calendar of holidays (at most 1 MB)."))
    try:
        import icalendar  # here, not at the top: 8 MiB that only this import needs, in every web worker

        calendar = icalendar.Calendar.from_ical(data)
        days = set()
        for event in calendar.walk("VEVENT"):
            days.update(_days_of(event))
            if len(days) > MAX_DATES:
                raise UnreadableCalendar(_l("The file holds more than 1,000 dates: is it a calendar of holidays?"))
    except (ValueError, OverflowError):  # icalendar's errors (a broken line, no DTSTART, a bad date) are ValueErrors
        raise UnreadableCalendar(_l("This is not an iCalendar file we can read (.ics, with dated events).")) from None
    if calendar.name != "VCALENDAR" or not days:
        raise UnreadableCalendar(_l("The file holds no dated events."))
    return sorted(day.isoformat() for day in days)


def _days_of(event) -> list[date]:
    start, end = event.start, event.end
    if not (isinstance(start, date) and isinstance(end, date)):
        raise ValueError("an event without a start or an end date")
    first = start.date() if isinstance(start, datetime) else start
    if not (
        validation.MIN_YEAR <= first.year <= validation.MAX_YEAR and first.year <= end.year <= validation.MAX_YEAR + 1
    ):
        raise UnreadableCalendar(_l("An event lies outside the years 1900 to 2100."))
    if isinstance(end, datetime):  # a timed event: the days it touches (an end at midnight ends the day before)
        last = (end - timedelta(microseconds=1)).date()
    else:  # an all-day event ends the day after its last day
        last = end - timedelta(days=1)
    last = max(last, first)
    if last - first >= LONGEST_EVENT:
        raise UnreadableCalendar(_l("An event lasts more than a year: this is not a calendar of holidays."))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
