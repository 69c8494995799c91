"""What the settings page's forms send: a section's inputs as a browser posts them, from the settings
in force, for tests to change one value of; and a small iCalendar file of holidays."""

from wtforms.fields import BooleanField, FieldList, FormField, SubmitField

from ticketing.admin.settings import FORMS
from ticketing.cases import settings

# China's National Day week of 2026 as a public calendar publishes it: one all-day event of three days
# (DTEND is the day after the last), and a single day.
HOLIDAYS_ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example//Holidays 2026//EN\r
BEGIN:VEVENT\r
UID:national-day-2026@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20261001\r
DTEND;VALUE=DATE:20261004\r
SUMMARY:National Day\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:mid-autumn-2026@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20260925\r
SUMMARY:Mid-Autumn Festival\r
END:VEVENT\r
END:VCALENDAR\r
"""

# A make-up working day (调休): Saturday 10 October 2026.
WORKDAY_ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example//Workdays 2026//EN\r
BEGIN:VEVENT\r
UID:workday-2026-10-10@example.com\r
DTSTAMP:20260101T000000Z\r
DTSTART;VALUE=DATE:20261010\r
SUMMARY:Make-up working day\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _inputs(fields):
    for field in fields:
        if isinstance(field, FormField):
            yield from _inputs(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from _inputs(entry.form) if isinstance(entry, FormField) else (entry,)
        elif field.type != "CSRFTokenField" and not isinstance(field, SubmitField):
            yield field


def section_inputs(app, section: str) -> dict:
    """The section's inputs as the page shows them now, named without the section's prefix."""
    return {name.removeprefix(f"{section}-"): value for name, value in section_data(app, section).items()}


def section_data(app, section: str, **changes) -> dict:
    """The section's inputs as the page shows them now, with `changes` ({input name without the
    section's prefix: value}; None leaves a checkbox unticked) sent instead."""
    with app.test_request_context():
        form = FORMS[section].from_values(settings.raw_values())
        data = {}
        for field in _inputs(form):
            if isinstance(field, BooleanField):
                if field.data:
                    data[field.name] = "y"
            elif hasattr(field, "_value"):
                data[field.name] = field._value()
            else:  # a choice: the value chosen
                data[field.name] = "" if field.data is None else str(field.data)
    for name, value in changes.items():
        key = f"{section}-{name}"
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
