"""Every dashboard figure, read from the per-case facts, equals the same figure worked out from the cases
and their records (the code as it was, kept in tests/insight/reference), for several periods, time zones
and filters, over a varied desk history made with the real services."""

import importlib
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select

from tests.conftest import login
from tests.insight.figures_data import (
    NOW,
    _analyse,
    _do,
    _follow_up,
    _handled,
    _open,
    _propose,
    _rate,
    build,
    period,
)
from tests.insight.reference import causes as ref_causes
from tests.insight.reference import handling as ref_handling
from tests.insight.reference import queries as ref_queries
from tests.insight.reference import recovery as ref_recovery
from tests.insight.reference import voice as ref_voice
from tests.insight.reference import volume as ref_volume
from ticketing.cases import catalogue, catalogue_edits, facts, services
from ticketing.cases.facts import CaseFacts
from ticketing.cases.facts_pending import CaseFactsPending
from ticketing.extensions import db
from ticketing.insight import figures

REFERENCE = {
    "volume": ref_volume.volume,
    "categories": ref_volume.categories,
    "channels": ref_volume.channels,
    "handling_times": ref_handling.handling_times,
    "deadlines": ref_handling.deadlines,
    "stalls": ref_handling.stalls,
    "first_contact": ref_handling.first_contact,
    "retention": ref_recovery.retention,
    "churn_types": ref_recovery.churn_types,
    "churn_causes": ref_recovery.churn_causes,
    "recovery_paradox": ref_recovery.recovery_paradox,
    "compensation": ref_recovery.compensation,
    "compensation_loss": ref_recovery.compensation_against_loss,
    "satisfaction": ref_voice.satisfaction,
    "nps": ref_voice.nps,
    "buy_again": ref_voice.buy_again,
    "fairness": ref_voice.fairness,
    "root_causes": ref_causes.root_causes,
    "products": ref_causes.products,
    "repeat_complainants": ref_recovery.repeat_complainants,
}
CATEGORIES = ("product", "delivery", "billing", "service")
CHANNELS = ("phone", "email", "web", "wechat")
PRODUCTS = ("Kettle", "Sofa", "Toaster", "Lamp", None)


def plain(value):
    """A cell or key number comparable across the two computations: text for labels, floats to 9 places."""
    if isinstance(value, float):
        return round(value, 9)
    if value is None or isinstance(value, (int, Decimal, date)):
        return value
    if hasattr(value, "amount"):  # Money
        return (value.amount, value.currency)
    return str(value)


def normal(result):
    return {
        "columns": [str(column.label) for column in result.columns],
        "rows": [[plain(cell) for cell in row] for row in result.rows],
        "headline": {key: (str(stat.label), plain(stat.value)) for key, stat in result.headline.items()},
        "notes": [str(note) for note in result.notes],
        "bars": [
            (bar.label, tuple(plain(v) for v in bar.values), bar.texts, bar.hover)
            for bar in (result.chart.bars if result.chart else [])
        ],
    }


def _varied(clock, agents, customers, seed=18):
    """Forty more cases over September to November, each taken as far as a random step, with random
    channels, categories, products, assignees, late responses, refused proposals, follow-ups and surveys."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 1, 3, tzinfo=timezone.utc)
    for _number in range(40):
        opened = start + timedelta(hours=rng.randrange(0, 80 * 24), minutes=rng.randrange(60))
        agent = rng.choice(agents)
        ticket, story = _open(
            clock,
            opened,
            agent,
            rng.choice(customers),
            rng.choice(CHANNELS),
            rng.choice(CATEGORIES),
            rng.choice(PRODUCTS),
            priority=rng.choice(("normal", "urgent")),
        )
        depth = rng.randrange(7)
        if depth == 0:
            continue
        hours = sorted(rng.uniform(0.2, 90) for _ in range(12))
        if rng.random() < 0.3:
            story.at(hours[0] / 2)
            _do(services.send_message, ticket, agent, body="Looking into it.")
        if depth == 1:
            story.at(hours[0])
            _do(services.cancel_case, ticket, agent, reason="Not a complaint")
            continue
        lines = [{"type": rng.choice(("refund", "voucher", "gift")), "amount": Decimal(rng.randrange(5, 90))}]
        loss = rng.choice((0, 20, 50, 120))
        if depth == 2:
            story.at(hours[0])
            _do(services.record_apology, ticket, agent, method="phone", wording="Sorry")
            continue
        if depth == 3:
            story.at(hours[0])
            _do(services.record_apology, ticket, agent, method="phone", wording="Sorry")
            story.at(hours[1])
            _analyse(ticket, agent, rng.choice(("product", "service", "customer_misuse")))
            story.at(hours[2])
            _propose(ticket, agent, loss, lines)
            if rng.random() < 0.5:
                story.at(hours[3])
                _do(services.record_customer_answer, ticket, agent, accepted=False, reason="Too little")
            continue
        _handled(
            ticket, agent, story, cause=rng.choice(("product", "service")), loss=loss, lines=lines, times=hours[:5]
        )
        if depth == 4:
            continue
        story.at(hours[5])
        judged = rng.choice(("retained", "at_risk", "lost"))
        extra = (
            {}
            if judged == "retained"
            else {"churn_type": "competitive", "churn_cause": rng.choice(("price", "product"))}
        )
        _follow_up(ticket, agent, rng.randrange(1, 6), judged, **extra)
        if rng.random() < 0.7:
            story.at(hours[6])
            _rate(
                ticket,
                rng.randrange(1, 6),
                rng.randrange(0, 11),
                rng.choice(("yes", "maybe", "no")),
                3,
                4,
                rng.randrange(1, 6),
            )
        if depth == 6:
            story.at(hours[7])
            _do(services.record_review, ticket, agent, summary="Done", lesson="Learnt")
    clock.now = NOW


@pytest.fixture
def desk(app, frozen_clock, agent, make_user, supervisor):
    other = make_user("agent", "bob@example.com", "Bob Agent")
    cases = build(frozen_clock, agent, other, supervisor)
    customers = [services.find_or_create_customer(f"C{n}", f"c{n}@example.com", None) for n in range(8)]
    db.session.commit()
    _varied(frozen_clock, [agent, other], customers)
    return cases, agent, other


def filters_to_try(agent, other):
    shanghai, new_york = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")
    kettle = catalogue.resolve_product("Kettle")
    return [
        period(),
        period(first_day=date(2026, 9, 1)),
        period(first_day=date(2026, 1, 1), last_day=date(2026, 12, 31)),
        period(first_day=date(2026, 10, 3), last_day=date(2026, 10, 20), zone=shanghai),
        period(first_day=date(2026, 9, 15), zone=new_york),
        period(first_day=date(2026, 9, 1), category="product"),
        period(first_day=date(2026, 9, 1), channel="phone"),
        period(first_day=date(2026, 9, 1), product=kettle.code),
        period(first_day=date(2026, 9, 1), assignee_id=other.id),
        period(first_day=date(2026, 9, 1), category="product", channel="phone", zone=shanghai),
    ]


def test_every_figure_equals_the_computation_from_the_cases(desk):
    _cases, agent, other = desk
    assert db.session.scalar(select(CaseFactsPending.id).limit(1)) is not None  # the changes marked them
    for filters in filters_to_try(agent, other):
        size, _results = figures.dashboard(filters)
        assert size == ref_queries.cohort_size(filters) > 0
        for key, compute in REFERENCE.items():
            assert normal(figures.compute(key, filters)) == normal(compute(filters)), (key, filters)
    assert figures.as_of() is None  # every change is in


def test_a_change_is_in_the_figures_at_once_and_the_facts_equal_a_rebuild(desk, supervisor):
    cases, _agent, _other = desk
    before = normal(figures.compute("stalls", period()))
    _do(services.reopen_case, cases.two, supervisor, reason="Broke again")
    after = normal(figures.compute("stalls", period()))
    assert after != before and after == normal(ref_handling.stalls(period()))
    assert normal(figures.compute("deadlines", period())) == normal(ref_handling.deadlines(period()))
    kept = [tuple(row) for row in db.session.execute(select(CaseFacts).order_by(CaseFacts.ticket_id)).all()]
    facts.rebuild()
    assert [tuple(row) for row in db.session.execute(select(CaseFacts).order_by(CaseFacts.ticket_id)).all()] == kept


def test_the_migrations_backfill_writes_the_same_facts_as_the_services(desk):
    """Migration 0025 fills the facts of the cases already there with its own copy of the query."""
    figures.dashboard(period())  # every pending change caught up
    written = db.session.execute(select(CaseFacts).order_by(CaseFacts.ticket_id)).scalars().all()
    kept = [{column.key: getattr(row, column.key) for column in CaseFacts.__table__.columns} for row in written]
    migration = importlib.import_module("ticketing.migrations.versions.0025_daily_figures")
    db.session.execute(delete(CaseFacts))
    migration._backfill(db.session.connection())
    db.session.expire_all()
    again = db.session.execute(select(CaseFacts).order_by(CaseFacts.ticket_id)).scalars().all()
    assert [{column.key: getattr(row, column.key) for column in CaseFacts.__table__.columns} for row in again] == kept
    assert len(kept) > 40


def test_a_merged_product_counts_under_the_product_it_was_merged_into(desk, supervisor):
    kettle, lamp = catalogue.resolve_product("Kettle"), catalogue.resolve_product("Lamp")
    catalogue_edits.merge_products(lamp, kettle, supervisor)
    db.session.commit()
    filters = period(first_day=date(2026, 9, 1))
    assert normal(figures.compute("products", filters)) == normal(ref_causes.products(filters))
    chosen = period(first_day=date(2026, 9, 1), product=kettle.code)
    assert normal(figures.compute("volume", chosen)) == normal(ref_volume.volume(chosen))


def test_the_page_says_as_of_when_changes_wait_to_be_added(client, supervisor, desk, monkeypatch):
    cases, _agent, _other = desk
    figures.dashboard(period())  # caught up
    db.session.commit()
    monkeypatch.setattr(facts, "CATCH_UP_LIMIT", 0)  # a backlog larger than a request takes on
    _do(services.reopen_case, cases.two, supervisor, reason="Broke again")
    login(client, supervisor.email)
    page = client.get("/insight/?date_from=2026-11-01&date_to=2026-11-30").get_data(as_text=True)
    assert "Figures as of" in page
    monkeypatch.setattr(facts, "CATCH_UP_LIMIT", 500)
    page = client.get("/insight/?date_from=2026-11-01&date_to=2026-11-30").get_data(as_text=True)
    assert "Figures as of" not in page


def test_flask_insight_rebuild_and_catch_up(runner, desk):
    result = runner.invoke(args=["insight", "catch-up"])
    assert result.exit_code == 0 and "changed cases" in result.output
    result = runner.invoke(args=["insight", "rebuild"])
    assert result.exit_code == 0 and "Wrote the facts of" in result.output
    assert db.session.scalar(select(CaseFactsPending.id).limit(1)) is None


def test_the_scheduler_job_writes_the_facts_of_changed_cases(desk, supervisor):
    from ticketing.scheduling.jobs import insight_facts_job

    cases, _agent, _other = desk
    _do(services.reopen_case, cases.two, supervisor, reason="Broke again")
    assert "changed cases written" in insight_facts_job(NOW)
    assert db.session.scalar(select(CaseFactsPending.id).limit(1)) is None
    assert figures.as_of() is None
    assert normal(figures.compute("stalls", period())) == normal(ref_handling.stalls(period()))
