"""The business calendar as the settings page sets it: hours per weekday, holidays, and make-up
working days (调休) — a holiday and a worked Saturday move a deadline as the calendar says."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from ticketing.cases import settings
from ticketing.cases.deadlines import deadlines
from ticketing.clock import utcnow
from ticketing.extensions import db

OFFICE = {str(day): (["09:00", "18:00"] if day < 5 else None) for day in range(7)}


def at(day, hour):
    """A moment in Shanghai on 2026-10-`day` at `hour`, as UTC."""
    return datetime(2026, 10, day, hour, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(timezone.utc)


def test_a_holiday_and_a_make_up_saturday_move_the_deadline(supervisor):
    # Friday 2 October 2026, 17:00; eight working hours to respond.
    start = at(2, 17)
    settings.save(supervisor, {"business_hours": OFFICE}, utcnow())
    db.session.commit()
    respond, _resolve = deadlines("normal", start)
    assert respond == at(5, 16)  # 1 hour on Friday, 7 on Monday the 5th

    settings.save(supervisor, {"holidays": ["2026-10-05"]}, utcnow())
    db.session.commit()
    assert deadlines("normal", start)[0] == at(6, 16)  # Monday is a holiday: Tuesday

    settings.save(supervisor, {"workdays": ["2026-10-03"]}, utcnow())
    db.session.commit()
    assert deadlines("normal", start)[0] == at(3, 16)  # Saturday the 3rd is worked, on a weekday's hours


def test_hours_per_weekday_count_a_short_friday(supervisor):
    week = {**OFFICE, "4": ["09:00", "12:00"]}  # Friday mornings only
    settings.save(supervisor, {"business_hours": week}, utcnow())
    db.session.commit()
    # Thursday 1 October, 16:00: 2 hours on Thursday, 3 on Friday morning, 3 on Monday.
    assert deadlines("normal", at(1, 16))[0] == at(5, 12)


def test_around_the_clock_ignores_the_calendar(supervisor):
    settings.save(supervisor, {"business_hours": None, "holidays": ["2026-10-05"]}, utcnow())
    db.session.commit()
    assert deadlines("normal", at(2, 17))[0] == at(3, 1)


@pytest.mark.parametrize(
    "key, value",
    [
        ("business_hours", {"0": ["²:00", "18:00"]}),
        ("business_hours", {"0": "09:00-18:00"}),
        ("deadline_hours", {"urgent": [float("nan"), 1], "high": [1, 2], "normal": [1, 2], "low": [1, 2]}),
        ("service_guarantee", {"urgent": ["voucher"]}),
        ("at_risk_fraction", float("nan")),
        ("reopen_days", float("inf")),
    ],
)
def test_malformed_values_are_refused_by_name_and_nothing_is_saved(supervisor, key, value):
    with pytest.raises(settings.SettingError) as refused:
        settings.save(supervisor, {key: value}, utcnow())
    assert refused.value.field == key
    db.session.rollback()
    assert settings.raw_values()[key] != value
