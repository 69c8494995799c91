"""The business calendar's forms on the settings page: working hours per weekday (or around the
clock), holidays and make-up working days as lists of dates, and a year's dates from an iCalendar file."""

import re

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, FormField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from ticketing.admin.settings_forms import SectionForm, store_check
from ticketing.forms_common import PolicyForm, PolicySubForm, options
from ticketing.i18n import lazy_gettext as _l

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # "0" (Monday) .. "6" in the store
OFFICE_HOURS = ["09:00", "18:00"]  # what a weekday shows when the calendar runs around the clock
CLOCK = Regexp(r"^[0-9]{1,2}:[0-9]{2}$", message=_l("Enter times as hours and minutes, e.g. 09:00."))


class DayForm(PolicySubForm):
    opens = StringField(_l("Opens"), validators=[Optional(), CLOCK])
    closes = StringField(_l("Closes"), validators=[Optional(), CLOCK])
    closed = BooleanField(_l("Day off"))

    def hours(self) -> list | None:
        return None if self.closed.data else [self.opens.data.strip(), self.closes.data.strip()]


WeekForm = type("WeekForm", (PolicySubForm,), {name: FormField(DayForm) for name in WEEKDAYS})


def _date_list(text: str | None) -> list[str]:
    """Dates as typed: one a line, or separated by commas or spaces."""
    return [part for part in re.split(r"[\s,，、;；]+", text or "") if part]


class CalendarForm(SectionForm):
    section = "calendar"
    kind = RadioField(
        _l("Deadlines count"),
        choices=options(
            pairs=lambda: [
                ("week", _l("working hours only, by the week below")),
                ("always", _l("every hour, around the clock (holidays too)")),
            ]
        ),
        validators=[InputRequired()],
    )
    week = FormField(WeekForm)
    holidays = TextAreaField(_l("Holidays"), validators=[Length(max=20000)])
    workdays = TextAreaField(_l("Make-up working days (调休)"), validators=[Length(max=20000)])
    submit = SubmitField(_l("Save the business calendar"))

    @classmethod
    def data_from(cls, values):
        week = values["business_hours"]
        days = {}
        for number, name in enumerate(WEEKDAYS):
            hours = week.get(str(number)) if week is not None else (OFFICE_HOURS if number < 5 else None)
            days[name] = {
                "opens": (hours or OFFICE_HOURS)[0],
                "closes": (hours or OFFICE_HOURS)[1],
                "closed": not hours,
            }
        return {
            "kind": "always" if week is None else "week",
            "week": days,
            "holidays": "\n".join(values["holidays"]),
            "workdays": "\n".join(values["workdays"]),
        }

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        return (self._check_week() if self.kind.data == "week" else True) and valid

    def _check_week(self) -> bool:
        """Each working day opens and closes at a time the store takes, and closes after it opens."""
        reasons = {name: self._day_refusal(self.week[name].form) for name in WEEKDAYS}
        for name, reason in reasons.items():
            if reason is not None:
                day = self.week[name].form
                day.closes.errors = [*day.closes.errors, str(reason)]
        if any(reasons.values()) or any(self.week[name].form.opens.errors for name in WEEKDAYS):
            return False
        if all(self.week[name].form.closed.data for name in WEEKDAYS):
            every_day_off = store_check("business_hours", {})  # the store's reason for a week without work
            self.kind.errors = [*self.kind.errors, str(every_day_off)]
            return False
        return True

    @staticmethod
    def _day_refusal(day):
        if day.closed.data or day.opens.errors or day.closes.errors:
            return None
        if not (day.opens.data or "").strip() or not (day.closes.data or "").strip():
            return _l("Enter the opening and closing times, or tick Day off.")
        return store_check("business_hours", {"0": day.hours()})

    def changes(self):
        week = None
        if self.kind.data == "week":
            week = {str(number): self.week[name].form.hours() for number, name in enumerate(WEEKDAYS)}
        return {
            "business_hours": week,
            "holidays": _date_list(self.holidays.data),
            "workdays": _date_list(self.workdays.data),
        }


class CalendarImportForm(PolicyForm):
    """A year's dates from an iCalendar file, added to the holidays or to the make-up working days."""

    file = FileField(
        _l("iCalendar file (.ics)"),
        validators=[
            FileRequired(_l("Choose an iCalendar file (.ics).")),
            FileAllowed(["ics"], _l("Choose an iCalendar file (.ics).")),
        ],
    )
    kind = RadioField(
        _l("Add its dates as"),
        choices=options(pairs=lambda: [("holidays", _l("holidays")), ("workdays", _l("make-up working days"))]),
        default="holidays",
        validators=[InputRequired()],
    )
    submit = SubmitField(_l("Import the dates"))
