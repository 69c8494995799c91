"""The settings page: each section saved by the roles that own it, every change in the history with its
old and new value, a refused value saving nothing, a year's holidays imported from an iCalendar file
and moving a deadline as the calendar says, running deadlines recomputed on request, in English and Chinese."""

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import open_case
from tests.settings_data import HOLIDAYS_ICS, WORKDAY_ICS, section_data
from ticketing.cases import settings
from ticketing.cases.audit import Event
from ticketing.cases.deadlines import deadlines
from ticketing.cases.models import Ticket
from ticketing.cases.settings import SettingChange
from ticketing.extensions import db
from ticketing.i18n import day

PAGE, HISTORY = "/admin/settings/", "/admin/settings/history"
SHANGHAI = timezone(timedelta(hours=8))


def _save(client, app, section, **changes):
    return client.post(f"/admin/settings/sections/{section}", data=section_data(app, section, **changes))


def _in_force(app) -> settings.DeskSettings:
    """The settings as the next request reads them (a fresh context, as another process would)."""
    with app.app_context():
        return settings.desk()


def _changes() -> int:
    return db.session.scalar(select(func.count(SettingChange.id)))


def _page(client, url=PAGE) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_an_agent_may_not_open_or_change_the_settings(client, app, agent):
    login(client, agent.email)
    assert client.get(PAGE).status_code == 403
    assert client.get(HISTORY).status_code == 403
    assert client.post("/admin/settings/sections/timing", data={"timing-digest_hour": "9"}).status_code == 403
    assert client.post("/admin/settings/recompute").status_code == 403
    assert _changes() == 0


# section -> (inputs changed, what the settings in force then say)
SUPERVISED = {
    "deadlines": (
        {
            "priorities-normal-response": "6",
            "overrides-0-category": "billing",
            "overrides-0-response": "2",
            "overrides-0-resolution": "12",
        },
        lambda s: s.deadline_hours["normal"] == (6.0, 72.0) and s.category_deadline_hours == {"billing": (2.0, 12.0)},
    ),
    "calendar": (
        {
            "kind": "week",
            "week-sat-closed": None,
            "week-sat-opens": "10:00",
            "week-sat-closes": "16:00",
            "week-sun-closed": "y",
            "holidays": "2026-10-01\n2026-10-02",
            "workdays": "2026-10-10",
        },
        lambda s: (
            s.business_hours["5"] == ["10:00", "16:00"]
            and s.business_hours["6"] is None
            and s.business_hours["0"] == ["09:00", "18:00"]
            and s.holidays == ("2026-10-01", "2026-10-02")
            and s.workdays == ("2026-10-10",)
        ),
    ),
    "guarantee": (
        {"low-1-kind": "voucher", "low-1-amount": "10"},
        lambda s: [kind for kind, _ in s.service_guarantee["low"]] == ["apology_letter", "voucher"],
    ),
    "timing": (
        {"follow_up_delay_hours": "36", "reopen_days": "14", "digest_hour": "9", "auto_escalate_on_breach": "y"},
        lambda s: (
            (s.follow_up_delay_hours, s.reopen_days, s.digest_hour, s.auto_escalate_on_breach) == (36.0, 14, 9, True)
        ),
    ),
}


@pytest.mark.parametrize("section", sorted(SUPERVISED))
def test_a_supervisor_saves_each_section_but_money(client, app, supervisor, section):
    login(client, supervisor.email)
    changes, in_force = SUPERVISED[section]
    response = _save(client, app, section, **changes)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#{section}")
    assert in_force(_in_force(app))
    assert "Saved: " in _page(client)
    who = {row.changed_by_id for row in db.session.scalars(select(SettingChange))}
    assert who == {supervisor.id}


def test_a_supervisor_cannot_change_limits_or_currency_and_reads_who_may(client, app, supervisor):
    login(client, supervisor.email)
    data = {
        "money-limits-agent": "300",
        "money-limits-supervisor": "50000",
        "money-limits-admin": "90000",
        "money-currency": "EUR",
    }
    assert client.post("/admin/settings/sections/money", data=data).status_code == 403
    assert (_in_force(app).currency, _changes()) == ("CNY", 0)
    page = _page(client)
    assert "Only administrators may change these settings" in page
    assert 'action="/admin/settings/sections/money"' not in page and "money-currency" not in page
    assert "Compensation limits per role" in page and "5,000" in page  # the values, to read


def test_an_admin_changes_limits_and_currency(client, app, admin):
    login(client, admin.email)
    response = _save(client, app, "money", **{"limits-supervisor": "8000", "currency": "hkd"})
    assert response.status_code == 302
    in_force = _in_force(app)
    assert in_force.compensation_limits["supervisor"] == 8000 and in_force.currency == "HKD"
    assert 'action="/admin/settings/sections/money"' in _page(client)


def test_a_change_shows_in_the_history_with_who_when_and_old_and_new_values(client, app, supervisor, frozen_clock):
    login(client, supervisor.email)
    _save(client, app, "timing", digest_hour="9")
    _save(client, app, "calendar", holidays="2026-10-01")
    page = _page(client, HISTORY)
    page = page[page.index("<tbody>") :]  # the saves' flashes are above
    digest = page[page.index("Hour of the daily digest") :]
    assert "08:00" in digest and "09:00" in digest
    with force_locale("en"):
        holiday, today = day(date(2026, 10, 1)), day(date(2026, 11, 24))
    assert "Holidays" in page and holiday in page and "Sam Supervisor" in page
    assert today in page  # when, in the reader's timezone
    assert page.index("Holidays") < page.index("Hour of the daily digest")  # newest first
    settings_page = _page(client)
    assert "Last changed by Sam Supervisor" in settings_page


def test_the_history_is_paginated_by_fifty(client, app, supervisor):
    login(client, supervisor.email)
    now = datetime.now(timezone.utc)
    for hour in range(1, 13):
        for days in range(1, 6):
            settings.save(supervisor, {"digest_hour": hour, "reopen_days": hour * 10 + days}, now)
    db.session.commit()
    first, second = _page(client, HISTORY), _page(client, HISTORY + "?page=2")
    assert first.count("<tr>") == 51 and "Older changes" in first and "Newer changes" not in first
    assert second.count("<tr>") == 1 + _changes() - 50 and "Newer changes" in second
    assert _page(client, HISTORY + "?page=99999999999999999999")  # a page that cannot be is the first


def test_a_refused_value_says_why_beside_it_and_saves_nothing(client, app, supervisor):
    login(client, supervisor.email)
    response = _save(client, app, "deadlines", **{"priorities-urgent-response": "30", "priorities-high-response": "2"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The first response cannot be due after the resolution." in page
    assert 'id="deadlines-priorities-urgent-resolution-error"' in page  # beside the urgent hours
    assert _changes() == 0 and _in_force(app).deadline_hours["high"] == (4.0, 48.0)

    for row in ({"overrides-0-response": "2"}, {"overrides-0-resolution": "2"}):  # a category needs both hours
        response = _save(client, app, "deadlines", **{"overrides-0-category": "billing", **row})
        assert response.status_code == 422
        assert "Enter the first-response and resolution hours." in response.get_data(as_text=True)
    twice = {"overrides-0-category": "billing", "overrides-1-category": "billing"}
    twice |= {f"overrides-{n}-{clock}": "4" for n in (0, 1) for clock in ("response", "resolution")}
    response = _save(client, app, "deadlines", **twice)
    assert response.status_code == 422
    assert "This category has its hours in another row." in response.get_data(as_text=True)

    # refused by the settings store itself (the form has no opinion on fractions): nothing of the section saved
    response = _save(client, app, "timing", follow_up_delay_hours="12", at_risk_fraction="2")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Enter a number from 0.05 to 0.99." in page and 'id="timing-at_risk_fraction-error"' in page
    assert _changes() == 0 and _in_force(app).follow_up_delay_hours == 48.0


def test_a_week_without_a_working_day_is_refused_at_the_top_of_the_calendar(client, app, supervisor):
    login(client, supervisor.email)
    closed = {f"week-{day}-closed": "y" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    response = _save(client, app, "calendar", kind="week", **closed)
    assert response.status_code == 422
    assert "At least one weekday must have working hours." in response.get_data(as_text=True)
    response = _save(client, app, "calendar", kind="week", **{"week-mon-opens": "18:00", "week-mon-closes": "09:00"})
    assert response.status_code == 422 and "A day must close after it opens." in response.get_data(as_text=True)
    assert _changes() == 0


def _office_hours(client, app):
    """Monday to Friday, 09:00 to 18:00 in Shanghai."""
    assert _save(client, app, "calendar", kind="week").status_code == 302


def _urgent_resolution(app, start):
    with app.app_context():
        return deadlines("urgent", start)[1]


def test_an_icalendar_file_adds_holidays_and_a_make_up_day_and_deadlines_follow(client, app, supervisor):
    login(client, supervisor.email)
    _office_hours(client, app)
    start = datetime(2026, 9, 30, 17, 0, tzinfo=SHANGHAI)  # Wednesday, an hour before closing
    # 24 working hours: Wednesday 1, Thursday 9, Friday 9, then 5 on Monday
    assert _urgent_resolution(app, start) == datetime(2026, 10, 5, 14, 0, tzinfo=SHANGHAI)

    response = client.post(
        "/admin/settings/calendar/import",
        data={"import-file": (io.BytesIO(HOLIDAYS_ICS), "holidays-2026.ics"), "import-kind": "holidays"},
    )
    assert response.status_code == 302
    assert "Dates added from the file: 4." in _page(client)
    assert _in_force(app).holidays == ("2026-09-25", "2026-10-01", "2026-10-02", "2026-10-03")
    # Thursday and Friday off: Wednesday 1, Monday 9, Tuesday 9, then 5 on Wednesday
    assert _urgent_resolution(app, start) == datetime(2026, 10, 7, 14, 0, tzinfo=SHANGHAI)

    friday = datetime(2026, 10, 9, 17, 0, tzinfo=SHANGHAI)
    assert _urgent_resolution(app, friday) == datetime(2026, 10, 14, 14, 0, tzinfo=SHANGHAI)
    response = client.post(
        "/admin/settings/calendar/import",
        data={"import-file": (io.BytesIO(WORKDAY_ICS), "workdays.ics"), "import-kind": "workdays"},
    )
    assert response.status_code == 302 and _in_force(app).workdays == ("2026-10-10",)
    # the make-up Saturday works 9 hours: Friday 1, Saturday 9, Monday 9, then 5 on Tuesday
    assert _urgent_resolution(app, friday) == datetime(2026, 10, 13, 14, 0, tzinfo=SHANGHAI)

    # a case opened now gets its deadline by the calendar in force
    with app.app_context():
        ticket = open_case(supervisor, priority="urgent")
        expected = deadlines("urgent", ticket.created_at)[1]
        assert db.session.get(Ticket, ticket.id).resolution_due_at == expected


def test_an_unreadable_file_is_refused_beside_it_and_nothing_is_saved(client, app, supervisor):
    login(client, supervisor.email)
    for name, content, reason in (
        ("notes.txt", HOLIDAYS_ICS, "Choose an iCalendar file (.ics)."),
        ("broken.ics", b"BEGIN:VCALENDAR\r\nthis is not a calendar\r\n", "This is not an iCalendar file we can read"),
        ("empty.ics", b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "The file holds no dated events."),
    ):
        response = client.post(
            "/admin/settings/calendar/import",
            data={"import-file": (io.BytesIO(content), name), "import-kind": "holidays"},
        )
        assert response.status_code == 422, name
        page = response.get_data(as_text=True)
        assert reason in page and 'id="import-file-error"' in page, name
    assert _changes() == 0


def test_running_deadlines_keep_theirs_until_a_supervisor_recomputes_them(client, app, agent, supervisor):
    ticket = open_case(agent)  # normal: 72 hours to resolution, around the clock
    created, due = ticket.created_at, ticket.resolution_due_at
    assert due == created + timedelta(hours=72)
    login(client, supervisor.email)
    _save(client, app, "deadlines", **{"priorities-normal-resolution": "24"})
    assert db.session.get(Ticket, ticket.id).resolution_due_at == due  # kept

    assert client.post("/admin/settings/recompute").status_code == 302
    assert "open cases whose deadlines moved: 1." in _page(client)
    moved = db.session.get(Ticket, ticket.id)
    assert moved.resolution_due_at == created + timedelta(hours=24)
    event = db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id.desc())).first()
    assert event.action == "recompute_deadlines" and "resolution_due_at" in event.changes

    # a second change counts from the case's start again, not from the first recomputation
    _save(client, app, "deadlines", **{"priorities-normal-resolution": "48"})
    client.post("/admin/settings/recompute")
    assert db.session.get(Ticket, ticket.id).resolution_due_at == created + timedelta(hours=48)
    client.post("/admin/settings/recompute")  # nothing moves: nothing logged
    assert (
        db.session.scalar(
            select(func.count(Event.id)).where(Event.ticket_id == ticket.id, Event.action == "recompute_deadlines")
        )
        == 2
    )


def test_the_page_speaks_english_and_chinese(client, app, make_user):
    english = make_user("supervisor", "en@example.com", "Eve")
    settings.save(english, {"holidays": ["2026-10-01"]}, datetime(2026, 9, 1, tzinfo=timezone.utc))
    db.session.commit()
    with force_locale("en"):
        english_holiday = day(date(2026, 10, 1))
    with force_locale("zh_CN"):
        chinese_holiday = day(date(2026, 10, 1))
    login(client, english.email)
    page = _page(client)
    for text in (
        "Deadlines",
        "Business calendar",
        "Service guarantee",
        "Timing",
        "Money",
        english_holiday,
        "Recompute the deadlines of open cases",
        "Monday",
        "Import a year's dates from an iCalendar file",
    ):
        assert text in page, text

    chinese = make_user("supervisor", "zh@example.com", "Zhou", locale="zh_CN")
    client.post("/logout")
    login(client, chinese.email)
    page = _page(client)
    for text in ("设置", "期限", "工作日历", "服务保证", "时限", chinese_holiday, "星期一", "重新计算"):
        assert text in page, text
    for text in ("Business calendar", "Save the deadlines", english_holiday, "Monday", "Holidays"):
        assert text not in page, text
    history = _page(client, HISTORY)
    assert "节假日" in history and chinese_holiday in history and "Holidays" not in history
