"""The customers-at-risk and early-warning pages: who may see them, both languages, CSV exports."""

from datetime import timedelta

import pytest

from tests.conftest import login
from tests.insight.risk_data import T0, WEEK_START, app, customer, listened, ticket  # noqa: F401 (app: the pinned app fixture)
from ticketing.extensions import db


@pytest.fixture
def rising(app, frozen_clock):
    """An angry gold customer with two cases, and five delivery complaints this week (none before)."""
    who = customer("Gold Gao", tier="gold")
    listened(ticket(who, created_at=T0 - timedelta(days=30)), "angry")
    for hours in range(5):
        ticket(who, created_at=WEEK_START + timedelta(hours=hours), category="delivery", product="=cmd|' /C calc'!A0")
    db.session.commit()
    return who


@pytest.mark.parametrize(
    "path", ["/insight/at-risk", "/insight/at-risk/export.csv", "/insight/warnings", "/insight/warnings/category.csv"]
)
def test_agents_are_turned_away(client, agent, rising, path):
    login(client, agent.email)
    assert client.get(path).status_code == 403


def test_the_at_risk_page_in_english_and_chinese(app, client, supervisor, make_user, rising):
    login(client, supervisor.email)
    page = client.get("/insight/at-risk").get_data(as_text=True)
    assert "Gold Gao" in page and "Angry at intake" in page and "Two or more complaints in 90 days" in page
    chinese, reader = make_user("supervisor", "zhang@example.com", "张伟", locale="zh_CN"), app.test_client()
    login(reader, chinese.email)
    page = reader.get("/insight/at-risk").get_data(as_text=True)
    assert "流失风险客户" in page and "受理时情绪愤怒" in page and "Angry at intake" not in page


def test_a_bad_filter_is_shown_and_ignored(client, supervisor, rising):
    login(client, supervisor.email)
    response = client.get("/insight/at-risk?min_score=abc&tier=platinum")
    assert response.status_code == 200 and "Gold Gao" in response.get_data(as_text=True)
    assert "Gold Gao" not in client.get("/insight/at-risk?min_score=50").get_data(as_text=True)


def test_the_at_risk_csv_lists_the_score_and_its_reasons(client, supervisor, rising):
    login(client, supervisor.email)
    response = client.get("/insight/at-risk/export.csv")
    text = response.get_data(as_text=True)
    assert response.headers["Content-Disposition"].startswith('attachment; filename="customers-at-risk-')
    assert text.startswith("\ufeffCustomer,Email,Phone,Value tier,Score,Reasons")
    [row] = text.splitlines()[1:]
    # 3 + 2 + 2: angry, six cases in 90 days, gold; the latest case at 04:00 on Monday in Shanghai.
    assert row == (
        "Gold Gao,gold.gao@example.com,,Gold,7,Angry at intake (+3); Two or more complaints in 90 days "
        "(+2); High-value tier (+2),6,6,2026-11-23 04:00,"
    )


def test_the_warnings_page_states_the_rule_and_shows_the_alert(client, supervisor, rising):
    login(client, supervisor.email)
    page = client.get("/insight/warnings").get_data(as_text=True)
    assert "one-sided Poisson test" in page and "previous 8 weeks" in page
    assert "Current alerts" in page and page.count("<svg") >= 3 and "Delivery" in page
    assert "No alerts this week" not in page


def test_the_warnings_page_reads_in_chinese(client, make_user, rising):
    chinese = make_user("supervisor", "zhang@example.com", "张伟", locale="zh_CN")
    login(client, chinese.email)
    page = client.get("/insight/warnings").get_data(as_text=True)
    assert "预警规则" in page and "单侧泊松检验" in page and "<svg" in page and "The rule" not in page


def test_the_weekly_counts_csv_escapes_formulas(client, supervisor, rising):
    login(client, supervisor.email)
    lines = client.get("/insight/warnings/product.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Kind,Value,Name,2026-09-28,")
    # the value is the product's code (a slug of its name), the name as typed, escaped
    assert lines[1].startswith("product,cmd-c-calc-a0,'=cmd|' /C calc'!A0,0,0,0,0,0,0,0,0,5,0.0,5,")
    assert lines[1].endswith(",yes")
    assert client.get("/insight/warnings/nonsense.csv").status_code == 404


def test_the_dashboard_partial_lists_the_current_alerts(app, client, supervisor, rising):
    from flask import render_template

    login(client, supervisor.email)
    with app.test_request_context():
        html = render_template("insight/_alerts.html")
    assert "Delivery" in html and "5 complaints this week, against an average of 0.0 a week before." in html


def test_the_dashboard_shows_the_current_alerts(client, supervisor, rising):
    login(client, supervisor.email)
    page = client.get("/insight/").get_data(as_text=True)
    assert "early-warnings-title" in page and "See the rule and the weekly counts" in page


def test_over_many_cases_the_alerts_come_from_the_scheduler(app, client, supervisor, rising):
    from ticketing.clock import utcnow
    from ticketing.scheduling import heartbeat, reports

    heartbeat.beat("test-scheduler", utcnow())
    login(client, supervisor.email)
    live = client.get("/insight/").get_data(as_text=True)
    assert "5 complaints this week, against an average of 0.0 a week before." in live
    app.config["REPORT_LIVE_CASES"] = 2
    assert "early-warnings-title" not in client.get("/insight/").get_data(as_text=True)  # being worked out
    assert reports.work().ready == 1  # the alerts
    shown = client.get("/insight/").get_data(as_text=True)
    panel = lambda page: page[page.index('<section class="panel early-warnings"') :].split("</section>")[0]  # noqa: E731
    assert panel(shown) == panel(live)
