"""Reading a year's holidays from an iCalendar file: each event's days, a bad file refused with a reason."""

import pytest

from ticketing.cases.calendar_import import UnreadableCalendar, dates_in_ics


def _calendar(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\nUID:{n}@example.com\r\n{event}END:VEVENT\r\n" for n, event in enumerate(events))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//EN\r\n{body}END:VCALENDAR\r\n".encode()


def test_an_all_day_event_of_several_days_counts_each_day_up_to_the_day_before_its_end(app):
    national_day = "DTSTART;VALUE=DATE:20261001\r\nDTEND;VALUE=DATE:20261004\r\nSUMMARY:National Day\r\n"
    mid_autumn = "DTSTART;VALUE=DATE:20260925\r\nSUMMARY:Mid-Autumn Festival\r\n"  # no end: one day
    assert dates_in_ics(_calendar(national_day, mid_autumn)) == ["2026-09-25", "2026-10-01", "2026-10-02", "2026-10-03"]


def test_a_duration_a_timed_event_and_a_repeated_date_count_as_the_days_they_cover(app):
    ics = _calendar(
        "DTSTART;VALUE=DATE:20260501\r\nDURATION:P2D\r\n",
        "DTSTART:20260504T090000\r\nDTEND:20260505T000000\r\n",  # ends at midnight: one day
        "DTSTART;VALUE=DATE:20260501\r\n",  # listed twice: once
    )
    assert dates_in_ics(ics) == ["2026-05-01", "2026-05-02", "2026-05-04"]


@pytest.mark.parametrize(
    "ics, reason",
    [
        (b"", "This is not an iCalendar file we can read"),
        (b"\xff\xfe\x00garbage", "This is not an iCalendar file we can read"),
        (_calendar("SUMMARY:no date\r\n"), "This is not an iCalendar file we can read"),
        (_calendar("DTSTART;VALUE=DATE:2026XX01\r\n"), "This is not an iCalendar file we can read"),
        (_calendar(), "The file holds no dated events."),
        (_calendar("DTSTART;VALUE=DATE:99991230\r\nDTEND;VALUE=DATE:99991231\r\n"), "outside the years 1900 to 2100"),
        (_calendar("DTSTART;VALUE=DATE:99991231\r\n"), "This is not an iCalendar file we can read"),
        (_calendar("DTSTART;VALUE=DATE:00010101\r\n"), "outside the years 1900 to 2100"),
        (_calendar("DTSTART;VALUE=DATE:20260101\r\nDTEND;VALUE=DATE:20280101\r\n"), "lasts more than a year"),
        (b"BEGIN:VCALENDAR\r\n" + b"X" * 1_000_001 + b"\r\nEND:VCALENDAR\r\n", "too large"),
    ],
)
def test_a_file_that_is_no_calendar_of_holidays_is_refused_with_a_reason(app, ics, reason):
    with pytest.raises(UnreadableCalendar) as refused:
        dates_in_ics(ics)
    assert reason in str(refused.value.reason) and refused.value.field == "file"


def test_more_than_a_thousand_dates_are_refused(app):
    years = [f"DTSTART;VALUE=DATE:{year}0101\r\nDTEND;VALUE=DATE:{year}1231\r\n" for year in range(2020, 2024)]
    with pytest.raises(UnreadableCalendar) as refused:
        dates_in_ics(_calendar(*years))
    assert "more than 1,000 dates" in str(refused.value.reason)
