"""The team view: per staff member figures against a hand-computed small dataset; the page and its CSV."""

from datetime import timedelta

import pytest

from tests.conftest import login
from tests.insight.risk_data import T0, app, customer, rated, ticket  # noqa: F401 (app: the pinned app fixture)
from ticketing.cases.improvement import QualityScore
from ticketing.cases.records import ReviewRecord
from ticketing.extensions import db
from ticketing.insight import team

SINCE, UNTIL = T0 - timedelta(days=90), T0


def closed_case(who, assignee, hours, days_ago=10):
    opened = T0 - timedelta(days=days_ago)
    return ticket(who, created_at=opened, status="closed", closed_at=opened + timedelta(hours=hours), assignee=assignee)


def reviewed(case, author, decision, at=T0 - timedelta(days=5)):
    db.session.add(
        ReviewRecord(
            ticket_id=case.id, summary="s", lesson="l", recorded_by_id=author.id, decision=decision, decided_at=at
        )
    )


def scored(case, agent, reviewer, value, at=T0 - timedelta(days=4)):
    db.session.add(
        QualityScore(
            sample="s1",
            ticket_id=case.id,
            agent_id=agent.id,
            reviewer_id=reviewer.id,
            score=value,
            scored_at=at,
            drawn_at=at,
        )
    )


@pytest.fixture
def dataset(app, frozen_clock, agent, supervisor, make_user):
    """
    Ann (agent): closed in 2 h, 4 h, 10 h (median 4); one closed 120 days ago (outside); 2 open now.
                 ratings 5 and 3 (average 4.0); reviews approved 2, returned 1; quality 80 and 100 (90).
    Bob:         closed in 1 h and 3 h (median 2, the mean of the two middle values); rating 1;
                 quality 60; a review returned 100 days ago (outside).
    Sam (supervisor): nothing at all.
    """
    bob = make_user("agent", "bob@example.com", "Bob Builder")
    who = customer()
    a1, a2, a3 = (closed_case(who, agent, hours) for hours in (10, 2, 4))
    closed_case(who, agent, 1, days_ago=120)
    ticket(who, assignee=agent)
    ticket(who, assignee=agent)
    b1, _b2 = closed_case(who, bob, 3), closed_case(who, bob, 1)
    rated(a1, agent, 5)
    rated(a2, agent, 3)
    rated(b1, bob, 1)
    reviewed(a1, agent, "approved")
    reviewed(a2, agent, "approved")
    reviewed(a3, agent, "returned")
    reviewed(b1, bob, "returned", at=T0 - timedelta(days=100))
    scored(a1, agent, supervisor, 80)
    scored(a2, agent, supervisor, 100)
    scored(b1, bob, supervisor, 60)
    db.session.commit()
    return dict(ann=agent, bob=bob, sam=supervisor)


def figures_of(rows, user):
    return next(row for row in rows if row.user.id == user.id)


def test_each_members_figures_match_the_hand_computation(dataset):
    rows = team.team_figures(SINCE, UNTIL)
    ann = figures_of(rows, dataset["ann"])
    assert (ann.closed, ann.open_now, ann.median_hours) == (3, 2, pytest.approx(4.0))
    assert (ann.ratings, ann.average_rating) == (2, pytest.approx(4.0))
    assert (ann.approved, ann.returned) == (2, 1)
    assert (ann.scored, ann.average_quality) == (2, pytest.approx(90.0))
    bob = figures_of(rows, dataset["bob"])
    assert (bob.closed, bob.open_now, bob.median_hours) == (2, 0, pytest.approx(2.0))
    assert (bob.ratings, bob.average_rating, bob.approved, bob.returned) == (1, pytest.approx(1.0), 0, 0)
    assert (bob.scored, bob.average_quality) == (1, pytest.approx(60.0))
    sam = figures_of(rows, dataset["sam"])
    assert (sam.closed, sam.median_hours, sam.average_rating, sam.average_quality) == (0, None, None, None)
    assert [row.user.name for row in rows] == ["Ann Agent", "Bob Builder", "Sam Supervisor"]  # busiest first


def test_the_team_page_draws_charts_and_a_table_in_english(client, dataset):
    login(client, dataset["sam"].email)
    page = client.get("/insight/team").get_data(as_text=True)
    assert page.count("<svg") == 4
    assert "Cases closed per team member" in page and "Ann Agent" in page and "90%" in page


def test_the_team_page_reads_in_chinese(client, dataset, make_user):
    chinese = make_user("supervisor", "zhang@example.com", "张伟", locale="zh_CN")
    login(client, chinese.email)
    page = client.get("/insight/team").get_data(as_text=True)
    assert "<svg" in page and "团队" in page and "Cases closed per team member" not in page


def test_the_team_csv_has_the_same_figures(client, dataset):
    login(client, dataset["sam"].email)
    response = client.get("/insight/team/export.csv?days=90")
    assert response.headers["Content-Type"].startswith("text/csv")
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Team member,Email,Cases closed,Open now,Median hours to close")
    assert lines[1] == "Ann Agent,agent@example.com,3,2,4.0,2,4.0,2,1,2,90.0"
    assert lines[2] == "Bob Builder,bob@example.com,2,0,2.0,1,1.0,0,0,1,60.0"


def test_a_bad_period_falls_back_to_ninety_days(client, dataset):
    login(client, dataset["sam"].email)
    assert client.get("/insight/team?days=abc").status_code == 200


def test_agents_may_not_see_the_team_view(client, dataset):
    login(client, dataset["ann"].email)
    assert client.get("/insight/team").status_code == 403
    assert client.get("/insight/team/export.csv").status_code == 403


def test_answers_an_agent_took_down_for_their_own_case_do_not_rate_them(dataset):
    """A phone survey taken down by the assignee is kept, but does not count in their own figures;
    one taken down by a colleague does."""
    ann, sam = dataset["ann"], dataset["sam"]
    who = customer()
    own, colleagues = closed_case(who, ann, 2), closed_case(who, ann, 2)
    rated(own, ann, 5).recorded_by_id = ann.id
    rated(colleagues, ann, 1).recorded_by_id = sam.id
    db.session.commit()
    ann_figures = figures_of(team.team_figures(SINCE, UNTIL), ann)
    assert (ann_figures.ratings, ann_figures.average_rating) == (3, pytest.approx(3.0))  # 5, 3 and the colleague's 1
