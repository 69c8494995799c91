"""Customers at risk: the score's reasons, their points and the ranking, on a hand-built dataset."""

from datetime import timedelta

import pytest

from tests.insight.risk_data import T0, app, customer, followed_up, listened, proposal, rated, ticket  # noqa: F401 (app: the pinned app fixture)
from ticketing.cases import risk
from ticketing.cases.models import Reminder
from ticketing.extensions import db


@pytest.fixture
def people(app, agent, frozen_clock):
    """
    gold   Gold Gao: angry at intake, two cases in 90 days, rejected a proposal, gold  -> 3+2+2+2 = 9
    erin   Erin:     an open case past its first-response deadline; survey rating 2   -> 2+3     = 5
    bo     Bo:       one closed case, unsatisfied at the follow-up                    -> 3
    calm   Calm Cai: one calm case, nothing wrong                                     -> 0 (not listed)
    old    Old Ou:   VIP, but the only case closed 200 days ago                       -> not considered
    dup    Du:       one case plus a duplicate merged into it (no repeat); late reply -> 2
    late   Lu:       closed case whose resolution-breach reminder was sent            -> 2
    """
    gold = customer("Gold Gao", tier="gold")
    first = ticket(gold, created_at=T0 - timedelta(days=80), status="closed", closed_at=T0 - timedelta(days=70))
    listened(first, "angry")
    second = ticket(gold, created_at=T0 - timedelta(days=3))
    listened(second, "upset")
    proposal(second, agent, "rejected")

    erin = customer("Erin")
    overdue = ticket(erin, created_at=T0 - timedelta(days=2), response_due_at=T0 - timedelta(hours=1))
    rated(overdue, agent, 2)

    bo = customer("Bo")
    closed = ticket(bo, created_at=T0 - timedelta(days=40), status="closed", closed_at=T0 - timedelta(days=30))
    followed_up(closed, agent, outcome="unsatisfied", satisfaction=3)

    calm = customer("Calm Cai")
    listened(ticket(calm, created_at=T0 - timedelta(days=5)), "calm")

    old = customer("Old Ou", tier="vip")
    ticket(old, created_at=T0 - timedelta(days=220), status="closed", closed_at=T0 - timedelta(days=200))

    dup = customer("Du")
    main = ticket(
        dup,
        created_at=T0 - timedelta(days=10),
        responded_at=T0 - timedelta(days=9),
        response_due_at=T0 - timedelta(days=9, hours=2),
    )
    ticket(dup, created_at=T0 - timedelta(days=10), status="cancelled", merged_into=main)

    late = customer("Lu")
    breached = ticket(late, created_at=T0 - timedelta(days=20), status="closed", closed_at=T0 - timedelta(days=5))
    db.session.add(
        Reminder(
            key="resolution_breached:x",
            kind="resolution_breached",
            ticket_id=breached.id,
            audience="supervisors",
            due_at=T0 - timedelta(days=15),
            run_at=T0 - timedelta(days=15),
            status="sent",
        )
    )
    db.session.commit()
    return dict(gold=gold, erin=erin, bo=bo, calm=calm, old=old, dup=dup, late=late)


def test_customers_are_ranked_by_score_with_their_reasons(people):
    ranked = risk.at_risk(T0)
    assert [(item.customer.name, item.score) for item in ranked] == [
        ("Gold Gao", 9),
        ("Erin", 5),
        ("Bo", 3),
        ("Du", 2),
        ("Lu", 2),
    ]  # equal scores: latest case first
    reasons = {item.customer.name: item.reason_keys for item in ranked}
    assert reasons == {
        "Gold Gao": ["angry", "repeat", "rejected", "high_value"],
        "Erin": ["breached", "low_rating"],
        "Bo": ["low_rating"],
        "Lu": ["breached"],
        "Du": ["breached"],
    }


def test_each_reason_carries_its_points_and_the_cases_behind_it(people):
    gold = risk.risk_of(people["gold"].id, T0)
    assert [(reason.key, reason.points, count) for reason, count in gold.explained] == [
        ("angry", 3, 1),
        ("repeat", 2, 2),
        ("rejected", 2, 1),
        ("high_value", 2, None),
    ]
    assert (gold.open_cases, gold.recent_cases) == (1, 2)
    assert str(gold.reasons[0].label) == "Angry at intake"


def test_a_merged_duplicate_is_not_a_repeat_complaint(people):
    assert risk.risk_of(people["dup"].id, T0).recent_cases == 1


def test_nobody_without_a_reason_or_a_recent_case_is_listed(people):
    assert risk.risk_of(people["calm"].id, T0) is None
    assert risk.risk_of(people["old"].id, T0) is None


def test_filters_narrow_the_list(people):
    assert [i.customer.name for i in risk.at_risk(T0, risk.Filters(tier="gold"))] == ["Gold Gao"]
    assert [i.customer.name for i in risk.at_risk(T0, risk.Filters(min_score=4))] == ["Gold Gao", "Erin"]
    assert [i.customer.name for i in risk.at_risk(T0, risk.Filters(open_only=True))] == ["Gold Gao", "Erin", "Du"]
    assert len(risk.at_risk(T0, limit=2)) == 2
