"""Long Insight reports worked out by the scheduler (ticketing/scheduling/reports.py, insight/snapshots.py):
above REPORT_LIVE_CASES the page never computes its figures itself; it shows the scheduler's, with their
time, and they are exactly the figures the page would have computed."""

import re
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.conftest import login
from tests.insight.figures_data import build
from ticketing.extensions import db
from ticketing.i18n import when_in
from ticketing.insight.snapshots import DASHBOARD
from ticketing.scheduling import heartbeat, reports
from ticketing.scheduling.models import ReportSnapshot

NOVEMBER = "/insight/?date_from=2026-11-01&date_to=2026-11-30"


def _at(hour: int, minute: int, language: str) -> str:
    """24 November 2026 at hour:minute UTC, as the desk writes it for the supervisor in Shanghai."""
    with force_locale(language):
        return when_in(datetime(2026, 11, 24, hour, minute, tzinfo=timezone.utc), "Asia/Shanghai")


@pytest.fixture
def story(app, frozen_clock, agent, make_user, supervisor):
    return build(frozen_clock, agent, make_user("agent", "bob@example.com", "Bob Agent"), supervisor)


@pytest.fixture
def scheduler_alive(app, frozen_clock):
    heartbeat.beat("test-scheduler", frozen_clock.now)
    return frozen_clock


def figures_of(page: str) -> str:
    """The figures' part of a dashboard page: from the key numbers to the end of the content."""
    return page[page.index('<ul class="tiles"') : page.index("</main>")]


def risk_table(page: str) -> str:
    """The at-risk list, without the forms' CSRF tokens (fresh on every page)."""
    table = page[page.index('<table class="at-risk">') : page.index("</table>")]
    return re.sub(r'<input id="c\d+-csrf_token"[^>]*>', "", table)


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_large_period_is_worked_out_by_the_scheduler_and_equals_the_page_s_own(
    app, client, supervisor, story, scheduler_alive
):
    login(client, supervisor.email)
    live = get(client, NOVEMBER)  # five cases: the page works them out itself
    assert "worked out by the scheduler" not in live
    app.config["REPORT_LIVE_CASES"] = 2
    waiting = get(client, NOVEMBER)
    assert "These figures read more than 2 cases, so the scheduler works them out" in waiting
    assert '<meta http-equiv="refresh" content="7">' in waiting
    assert "<svg" not in waiting and 'class="tiles"' not in waiting
    assert db.session.scalar(select(ReportSnapshot.status)) == "wanted"

    worked = reports.work()
    assert (worked.ready, worked.failed) == (2, 0)  # the figures, and the early warnings beside them
    shown = get(client, NOVEMBER)
    assert f"Figures as of {_at(9, 0, 'en')}" in shown
    assert "worked out by the scheduler (refreshed every 10 minutes)" in shown
    assert "http-equiv" not in shown
    assert figures_of(shown) == figures_of(live)
    # Asked for again while fresh: served as it is, nothing new to work out.
    get(client, NOVEMBER)
    assert reports.work().ready == 0


def test_each_language_gets_its_own_report(app, client, supervisor, story, scheduler_alive):
    app.config["REPORT_LIVE_CASES"] = 2
    login(client, supervisor.email)
    get(client, NOVEMBER)
    supervisor.locale = "zh_CN"
    db.session.commit()
    assert "调度程序" in get(client, NOVEMBER)
    assert reports.work().ready == 3  # in English and in Chinese, and the early warnings
    chinese = get(client, NOVEMBER)
    assert f"数据截至 {_at(9, 0, 'zh_CN')}，由调度程序计算" in chinese
    assert "Cases opened" not in figures_of(chinese)
    supervisor.locale = "en"
    db.session.commit()
    assert "Cases opened" in figures_of(get(client, NOVEMBER))


def test_an_old_report_is_shown_with_its_time_while_a_fresh_one_is_worked_out(
    app, client, supervisor, story, scheduler_alive
):
    app.config["REPORT_LIVE_CASES"] = 2
    login(client, supervisor.email)
    get(client, NOVEMBER)
    reports.work()
    scheduler_alive.move(minutes=11)
    heartbeat.beat("test-scheduler", scheduler_alive.now)
    stale = get(client, NOVEMBER)
    assert f"Figures as of {_at(9, 0, 'en')}. Fresher ones are being worked out" in stale
    assert 'class="tiles"' in stale and "http-equiv" not in stale  # readable, not reloaded under the reader
    assert reports.work().ready == 2  # the figures and the early warnings, both old
    assert f"Figures as of {_at(9, 11, 'en')}, worked out by the scheduler" in get(client, NOVEMBER)


def test_without_a_scheduler_the_page_says_so_instead_of_waiting_for_ever(app, client, supervisor, story):
    app.config["REPORT_LIVE_CASES"] = 2
    login(client, supervisor.email)
    page = get(client, NOVEMBER)
    assert "No scheduler is running, so these figures cannot be worked out now" in page


def test_a_failing_report_says_why_and_is_tried_again_a_minute_later(
    app, client, supervisor, story, scheduler_alive, monkeypatch
):
    app.config["REPORT_LIVE_CASES"] = 2
    login(client, supervisor.email)
    get(client, NOVEMBER)

    def broken(parameters):
        raise RuntimeError("the disk is full")

    monkeypatch.setitem(reports.KINDS, DASHBOARD, broken)
    assert reports.work().failed == 1
    page = get(client, NOVEMBER)
    assert "These figures could not be worked out: RuntimeError: the disk is full." in page
    assert reports.work().failed == 0  # not asked again within the minute
    monkeypatch.undo()
    scheduler_alive.move(minutes=2)
    heartbeat.beat("test-scheduler", scheduler_alive.now)
    get(client, NOVEMBER)
    assert reports.work().ready == 1
    assert 'class="tiles"' in get(client, NOVEMBER)


def test_a_figure_s_csv_comes_from_the_same_report(app, client, supervisor, story, scheduler_alive):
    login(client, supervisor.email)
    live = client.get("/insight/export/categories.csv?date_from=2026-11-01&date_to=2026-11-30").get_data()
    app.config["REPORT_LIVE_CASES"] = 2
    early = client.get("/insight/export/categories.csv?date_from=2026-11-01&date_to=2026-11-30")
    assert early.status_code == 302 and "/insight/?date_from=2026-11-01" in early.headers["Location"]
    assert "download the CSV once they are shown" in get(client, early.headers["Location"])
    reports.work()
    ready = client.get("/insight/export/categories.csv?date_from=2026-11-01&date_to=2026-11-30")
    assert ready.status_code == 200 and ready.get_data() == live
    assert 'filename="insight-categories-20261101-20261130.csv"' in ready.headers["Content-Disposition"]


def test_reports_nobody_asks_for_in_a_week_are_removed(app, client, supervisor, story, scheduler_alive):
    app.config["REPORT_LIVE_CASES"] = 2
    login(client, supervisor.email)
    get(client, NOVEMBER)
    get(client, "/insight/?date_from=2026-10-01&date_to=2026-11-30")
    reports.work()
    scheduler_alive.move(days=8)
    heartbeat.beat("test-scheduler", scheduler_alive.now)
    login(client, supervisor.email)  # signed out by then
    get(client, NOVEMBER)
    assert reports.work().forgotten == 2  # October's figures, and last week's warnings
    assert db.session.scalar(select(func.count()).select_from(ReportSnapshot)) == 2  # November's, this week's warnings


def test_a_report_dropped_by_a_stopped_scheduler_is_taken_again(app, client, supervisor, story, scheduler_alive):
    app.config["REPORT_LIVE_CASES"] = 2
    login(client, supervisor.email)
    get(client, NOVEMBER)
    assert reports._claim() is not None  # taken, then the process died
    assert reports.work().ready == 1  # the early warnings; the figures stay taken
    scheduler_alive.move(minutes=16)
    assert reports.work().ready == 1


def test_the_scheduler_page_names_the_reports_job(app, client, supervisor):
    login(client, supervisor.email)
    assert re.search("Work out the long Insight reports asked for", get(client, "/admin/scheduler/"))


def test_the_team_page_over_many_closed_cases_is_the_scheduler_s(app, client, supervisor, story, scheduler_alive):
    login(client, supervisor.email)
    live = get(client, "/insight/team?days=30")
    live_csv = client.get("/insight/team/export.csv?days=30").get_data()
    app.config["REPORT_LIVE_CASES"] = 0
    waiting = get(client, "/insight/team?days=30")
    assert "so the scheduler works them out" in waiting and "<table" not in waiting
    assert "No team members yet" not in waiting
    early = client.get("/insight/team/export.csv?days=30")
    assert early.status_code == 302 and early.headers["Location"].endswith("/insight/team?days=30")
    assert reports.work().ready == 1
    shown = get(client, "/insight/team?days=30")
    assert "worked out by the scheduler" in shown
    assert shown[shown.index('<table class="team">') :] == live[live.index('<table class="team">') :]
    assert client.get("/insight/team/export.csv?days=30").get_data() == live_csv


def test_customers_at_risk_are_paged_from_the_scheduler_s_ranking(app, client, supervisor, story, scheduler_alive):
    login(client, supervisor.email)
    live = get(client, "/insight/at-risk")
    live_csv = client.get("/insight/at-risk/export.csv").get_data()
    rows = re.findall(r'<tr id="customer-\d+">', live)
    assert rows
    app.config["REPORT_LIVE_CASES"] = 0
    waiting = get(client, "/insight/at-risk")
    assert "so the scheduler works them out" in waiting and "No customer matches" not in waiting
    early = client.get("/insight/at-risk/export.csv")
    assert early.status_code == 302
    assert "being prepared" in get(client, early.headers["Location"])
    assert reports.work().ready == 2  # the ranking, and the spreadsheet asked for
    shown = get(client, "/insight/at-risk")
    assert re.findall(r'<tr id="customer-\d+">', shown) == rows
    assert risk_table(shown) == risk_table(live)
    assert client.get("/insight/at-risk/export.csv").get_data() == live_csv


def test_a_long_period_of_many_cases_offers_the_catalogue_s_products(app, client, supervisor, story):
    from ticketing.cases.catalogue import Product
    from ticketing.clock import utcnow

    db.session.add(
        Product(code="never-named", name_en="Never named", name_zh="从未提及", active=True, created_at=utcnow())
    )
    db.session.commit()
    login(client, supervisor.email)
    assert "Never named" not in get(client, NOVEMBER)  # the period's products: no case names it
    app.config["REPORT_LIVE_CASES"] = 2
    assert '<option value="never-named">Never named</option>' in get(client, NOVEMBER)
