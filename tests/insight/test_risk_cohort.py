"""Customers at risk read only the open and recent cases: the list is the same as the score's plain
definition (every case looked at, IN-lists, one OR), on cases either side of the window, reopened,
cancelled, merged, followed up more than once, with breach notices sent or not, and ties; paged."""

from datetime import timedelta

import pytest
from sqlalchemy import case, func, literal, or_, select

from tests.conftest import login
from tests.insight.risk_data import T0, app, customer, followed_up, listened, proposal, rated, ticket  # noqa: F401 (app: the pinned app fixture)
from ticketing.cases import catalogue, risk
from ticketing.cases.deadlines import overdue_condition
from ticketing.cases.models import Customer, Reminder, Ticket
from ticketing.cases.records import FollowUpRecord, ListenRecord, Resolution
from ticketing.cases.survey import SurveyResponse
from ticketing.extensions import db
from ticketing.insight import risk_views


def _plain_ranking(now):
    """The score as defined, written the plain way: every case, IN-lists over the records."""
    since = now - timedelta(days=risk.RECENT_DAYS)
    latest = select(func.max(FollowUpRecord.id)).group_by(FollowUpRecord.ticket_id)
    judged = select(FollowUpRecord.ticket_id).where(FollowUpRecord.id.in_(latest))

    def flag(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    stats = (
        select(
            Ticket.customer_id.label("customer_id"),
            flag(Ticket.created_at >= since).label("recent"),
            flag(Ticket.status == "open").label("open"),
            flag(Ticket.id.in_(judged.where(FollowUpRecord.retention == "lost"))).label("lost"),
            flag(Ticket.id.in_(judged.where(FollowUpRecord.retention == "at_risk"))).label("at_risk"),
            flag(Ticket.id.in_(select(ListenRecord.ticket_id).where(ListenRecord.emotion == "angry"))).label("angry"),
            flag(
                or_(
                    overdue_condition(now),
                    Ticket.responded_at > Ticket.response_due_at,
                    Ticket.id.in_(
                        select(Reminder.ticket_id).where(
                            Reminder.kind.in_(risk.BREACH_KINDS), Reminder.status == "sent"
                        )
                    ),
                )
            ).label("breached"),
            flag(Ticket.id.in_(select(Resolution.ticket_id).where(Resolution.state == "rejected"))).label("rejected"),
            flag(
                or_(
                    Ticket.id.in_(select(SurveyResponse.ticket_id).where(SurveyResponse.satisfaction <= 2)),
                    Ticket.id.in_(
                        select(FollowUpRecord.ticket_id).where(
                            or_(FollowUpRecord.outcome == "unsatisfied", FollowUpRecord.satisfaction <= 2)
                        )
                    ),
                )
            ).label("low_rating"),
            func.max(Ticket.created_at).label("last_case_at"),
        )
        .where(
            or_(Ticket.status == "open", Ticket.created_at >= since, Ticket.closed_at >= since),
            Ticket.merged_into_id.is_(None),
        )
        .group_by(Ticket.customer_id)
        .subquery()
    )
    met = {
        "lost": stats.c.lost > 0,
        "at_risk": stats.c.at_risk > 0,
        "angry": stats.c.angry > 0,
        "repeat": stats.c.recent >= 2,
        "breached": stats.c.breached > 0,
        "rejected": stats.c.rejected > 0,
        "low_rating": stats.c.low_rating > 0,
        "high_value": Customer.value_tier.in_(catalogue.high_value_tiers()),
    }
    score = sum((case((met[r.key], 1), else_=0) * r.points for r in risk.REASONS), literal(0))
    rows = db.session.execute(
        select(Customer.id, score, *(stats.c[key] for key in ("recent", "open", "lost", "at_risk", "angry")))
        .add_columns(stats.c.breached, stats.c.rejected, stats.c.low_rating)
        .join(stats, stats.c.customer_id == Customer.id)
        .where(score >= 1)
        .order_by(score.desc(), stats.c.last_case_at.desc(), Customer.id)
    )
    return [tuple(int(value) for value in row) for row in rows]


def _listed(items):
    keys = ("recent", "lost", "at_risk", "angry", "breached", "rejected", "low_rating")
    return [
        (item.customer.id, item.score, item.counts["recent"], item.open_cases)
        + tuple(item.counts[key] for key in keys[1:])
        for item in items
    ]


def _judged(case_, by, retention, satisfaction=4):
    db.session.add(
        FollowUpRecord(
            ticket_id=case_.id,
            method="phone",
            outcome="satisfied",
            satisfaction=satisfaction,
            retention=retention,
            churn_type="natural" if retention == "lost" else None,
            recorded_by_id=by.id,
        )
    )
    db.session.flush()


@pytest.fixture
def desk(app, agent, frozen_clock):
    """Customers whose cases sit on both sides of the 90-day window and at its edges."""
    day = timedelta(days=1)
    # Both sides: an angry case long closed (not looked at) and a recent calm one.
    both = customer("Bei Both")
    listened(ticket(both, created_at=T0 - 300 * day, status="closed", closed_at=T0 - 280 * day), "angry")
    listened(ticket(both, created_at=T0 - 5 * day), "calm")
    # Opened long ago, closed within the window: looked at (a rejected proposal counts).
    late = customer("Lan Late")
    closed = ticket(late, created_at=T0 - 200 * day, status="closed", closed_at=T0 - 10 * day)
    proposal(closed, agent, "rejected")
    # Closed long ago and reopened: open now, so looked at; its old closing time stays.
    reopened = customer("Rui Reopened")
    again = ticket(reopened, created_at=T0 - 400 * day, status="open", closed_at=T0 - 380 * day)
    listened(again, "angry")
    # Cancelled within the window, with a sent breach notice; and a pending one elsewhere (not counted).
    cancelled = customer("Can Cancelled", tier="gold")
    gone = ticket(cancelled, created_at=T0 - 120 * day, status="cancelled", closed_at=T0 - 3 * day)
    quiet = ticket(cancelled, created_at=T0 - 2 * day)
    for key, case_, status in (("a", gone, "sent"), ("b", quiet, "pending")):
        db.session.add(
            Reminder(
                key=f"response_breached:{key}",
                kind="response_breached",
                ticket_id=case_.id,
                audience="supervisors",
                due_at=T0 - 3 * day,
                run_at=T0 - 3 * day,
                status=status,
            )
        )
    # Judged lost, then retained at a second follow-up: the latest counts (retained), the low rating stays.
    turned = customer("Tao Turned")
    twice = ticket(turned, created_at=T0 - 30 * day, status="closed", closed_at=T0 - 20 * day)
    _judged(twice, agent, "lost", satisfaction=1)
    followed_up(twice, agent, satisfaction=4)
    # Judged at risk on one case, lost on another; rated 2 on a third; three recent cases.
    many = customer("Mo Many")
    for retention in ("at_risk", "lost"):
        _judged(ticket(many, created_at=T0 - 15 * day), agent, retention)
    rated(ticket(many, created_at=T0 - 14 * day), agent, 2)
    # A tie: the same score and the same latest case, so the lower id comes first.
    for name in ("Tie Two", "Tie One"):
        listened(ticket(customer(name), created_at=T0 - 7 * day), "angry")
    # A merged duplicate counts for nothing; the case it was merged into does.
    merged = customer("Meg Merged")
    main = ticket(merged, created_at=T0 - 6 * day)
    listened(ticket(merged, created_at=T0 - 6 * day, status="cancelled", merged_into=main), "angry")
    listened(main, "upset")
    # Right at the window's edge: opened exactly 90 days ago (in), closed exactly then (in).
    edge = customer("Ed Edge")
    listened(ticket(edge, created_at=T0 - 90 * day, status="closed", closed_at=T0 - 89 * day), "angry")
    db.session.commit()


def test_the_list_is_the_plain_definition_of_the_score(desk):
    items = risk.at_risk(T0)
    assert _listed(items) == _plain_ranking(T0)
    names = [item.customer.name for item in items]
    assert "Bei Both" not in names  # its angry case is outside the window, the recent one calm
    assert {"Lan Late", "Rui Reopened", "Can Cancelled", "Tao Turned", "Mo Many", "Ed Edge"} <= set(names)
    assert names.index("Tie One") > names.index("Tie Two")  # same score and latest case: created first, first
    by_name = {item.customer.name: item for item in items}
    assert by_name["Tao Turned"].reason_keys == ["low_rating"]  # retained at the latest follow-up
    assert by_name["Mo Many"].counts["lost"] == 1 and by_name["Mo Many"].counts["at_risk"] == 1
    assert by_name["Can Cancelled"].counts["breached"] == 1


def test_one_customers_score_is_their_row_of_the_list(desk):
    for item in risk.at_risk(T0):
        alone = risk.risk_of(item.customer.id, T0)
        assert (alone.score, alone.counts, alone.open_cases, alone.last_case_at) == (
            item.score,
            item.counts,
            item.open_cases,
            item.last_case_at,
        )


def test_pages_of_the_list_follow_each_other(desk):
    everyone = [item.customer.id for item in risk.at_risk(T0)]
    pages = [[item.customer.id for item in risk.at_risk(T0, limit=3, offset=start)] for start in range(0, 12, 3)]
    assert [cid for page in pages for cid in page] == everyone


def test_the_page_shows_the_list_a_page_at_a_time(client, supervisor, desk, monkeypatch):
    monkeypatch.setattr(risk_views, "PAGE_SIZE", 4)
    login(client, supervisor.email)
    everyone = [item.customer.name for item in risk.at_risk(T0)]
    first = client.get("/insight/at-risk").get_data(as_text=True)
    assert all(name in first for name in everyone[:4]) and everyone[4] not in first
    assert "Customers 1–4, by score" in first and "page=2" in first and "Higher scores" not in first
    second = client.get("/insight/at-risk?page=2").get_data(as_text=True)
    assert everyone[4] in second and everyone[0] not in second and "Customers 5–8, by score" in second
    assert "Higher scores" in second
    beyond = client.get("/insight/at-risk?page=50").get_data(as_text=True)
    assert "No customers on this page." in beyond
    odd = client.get("/insight/at-risk?page=x").get_data(as_text=True)  # a page that cannot be is the first
    assert everyone[0] in odd and "Customers 1–4, by score" in odd
    csv = client.get("/insight/at-risk/export.csv").get_data(as_text=True)
    assert all(name in csv for name in everyone)  # the CSV has all of them
