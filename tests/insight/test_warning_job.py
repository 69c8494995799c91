"""Weekly counts in the database, the alerts they raise, and the daily job that notifies supervisors once."""

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.conftest import login
from tests.insight.risk_data import T0, WEEK_START, app, customer, ticket  # noqa: F401 (app: the pinned app fixture)
from ticketing.cases import early_warning as warnings
from ticketing.cases.models import Reminder
from ticketing.extensions import db
from ticketing.i18n import day
from ticketing.notify import messages
from ticketing.notify.models import Notification
from ticketing.scheduling.dispatcher import dispatch_due
from ticketing.scheduling.jobs import early_warning_job


def in_week(offset: int, hours: int = 30):
    """A moment `offset` weeks before the current one (0 = this week), `hours` after that week began."""
    return WEEK_START - timedelta(weeks=offset) + timedelta(hours=hours)


@pytest.fixture
def dataset(app, frozen_clock):
    """delivery: 1,0,1,0,1,0,1,0 then 4 this week (fires); billing: 2 a week then 3 (does not);
    product Kettle K-200: nothing before, 4 this week (fires); a merged duplicate never counts."""
    who = customer()
    for offset in (8, 6, 4, 2):
        ticket(who, created_at=in_week(offset), category="delivery")
    for _ in range(4):
        ticket(who, created_at=in_week(0, hours=2), category="delivery", product="Kettle K-200")
    for offset in range(1, 9):
        for _ in range(2):
            ticket(who, created_at=in_week(offset), category="billing")
    first = ticket(who, created_at=in_week(0), category="billing")
    ticket(who, created_at=in_week(0), category="billing")
    ticket(who, created_at=in_week(0), category="billing")
    ticket(who, created_at=in_week(0), category="billing", merged_into=first)  # a duplicate: not counted
    ticket(who, created_at=in_week(9), category="billing")  # older than the window
    db.session.commit()
    return who


def test_weekly_counts_are_grouped_by_week_in_the_database(dataset):
    counts = warnings.weekly_counts("category", T0)
    assert counts == {"delivery": [1, 0, 1, 0, 1, 0, 1, 0, 4], "billing": [2, 2, 2, 2, 2, 2, 2, 2, 3]}
    assert warnings.weekly_counts("product", T0) == {"kettle-k-200": [0, 0, 0, 0, 0, 0, 0, 0, 4]}


def test_weeks_begin_on_monday_midnight_in_the_service_timezone(app, frozen_clock):
    who = customer()
    ticket(who, created_at=WEEK_START - timedelta(minutes=1), category="other")  # Sunday 23:59 Shanghai
    ticket(who, created_at=WEEK_START, category="other")  # Monday 00:00 Shanghai
    db.session.commit()
    assert warnings.weekly_counts("category", T0)["other"][-2:] == [1, 1]


def test_alerts_fire_for_the_category_and_product_far_above_their_baseline(dataset):
    alerts = warnings.current_alerts(T0)
    assert [(a.kind, a.value) for a in alerts] == [("category", "delivery"), ("product", "kettle-k-200")]
    delivery = alerts[0]
    assert (delivery.check.count, delivery.check.baseline) == (4, 0.5)
    billing = next(s for s in warnings.all_series("category", T0) if s.value == "billing")
    assert (billing.check.count, billing.check.baseline, billing.check.alert) == (3, 2.0, False)


def test_no_alert_without_complaints(app, frozen_clock):
    assert warnings.current_alerts(T0) == []
    assert early_warning_job(T0) == "0 early-warning notices queued"


def test_the_job_notifies_each_supervisor_once_per_alert_per_week(dataset, agent, supervisor, admin):
    assert early_warning_job(T0) == "4 early-warning notices queued"  # 2 alerts x 2 supervisors
    assert early_warning_job(T0 + timedelta(hours=24)) == "0 early-warning notices queued"  # the next day
    dispatch_due(T0 + timedelta(hours=24))
    early_warning_job(T0 + timedelta(hours=25))
    dispatch_due(T0 + timedelta(hours=25))
    rows = db.session.execute(
        select(Notification.user_id, func.count())
        .where(Notification.kind == "early_warning")
        .group_by(Notification.user_id)
    ).all()
    assert dict(rows) == {supervisor.id: 2, admin.id: 2}  # none for the agent, none twice
    keys = set(db.session.scalars(select(Reminder.key).where(Reminder.kind == "early_warning")))
    assert f"early_warning:category:delivery:2026-11-23:{supervisor.id}" in keys


def test_the_notice_says_what_is_rising_in_the_readers_language(dataset, supervisor, make_user):
    chinese = make_user("supervisor", "zhang@example.com", "张伟", locale="zh_CN")
    early_warning_job(T0)
    dispatch_due(T0)
    [notice] = [
        n
        for n in db.session.scalars(select(Notification).where(Notification.user_id == chinese.id))
        if n.details["value"] == "delivery"
    ]
    subject, body = messages.render(notice.kind, notice.details, "zh_CN")
    assert subject == "预警：配送的投诉正在增多"
    with force_locale("zh_CN"):
        week = day(date(2026, 11, 23))
    assert body.startswith(f"{week} 当周至今已有 4 起投诉，而前 8 周平均每周 0.5 起")
    subject, body = messages.render(notice.kind, notice.details, "en")
    assert subject == "Early warning: complaints about Delivery are rising"
    with force_locale("en"):
        week = day(date(2026, 11, 23))
    assert body.startswith(
        f"4 complaints so far in the week of {week}, against an average of 0.5 a week over the previous 8 weeks"
    )


def test_supervisors_get_the_notice_by_email_when_smtp_is_configured(dataset, supervisor, inbox):
    early_warning_job(T0)
    dispatch_due(T0)
    subjects = sorted(message["Subject"] for message in inbox.to(supervisor.email))
    assert subjects == [
        "Early warning: complaints about Delivery are rising",
        "Early warning: complaints about Kettle K-200 are rising",
    ]


def test_opening_the_notification_leads_to_the_warnings_page(dataset, client, supervisor):
    early_warning_job(T0)
    dispatch_due(T0)
    notice = db.session.scalars(select(Notification).where(Notification.user_id == supervisor.id)).first()
    login(client, supervisor.email)
    response = client.post(f"/notifications/{notice.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/insight/warnings")


def test_a_long_product_name_keeps_the_key_short(app):
    series = warnings.Series("product", "K" * 120, [0] * 9, warnings.evaluate([0] * 8, 0))
    key = warnings.warning_key(series, T0.date(), 12345)
    assert len(key) <= 120 and key.startswith("early_warning:product:sha256-")
