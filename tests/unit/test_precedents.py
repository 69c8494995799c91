"""Precedents for a fair offer: which closed cases count, how they rank, the bands, and placement."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.factories import LISTEN, to_step
from tests.precedents_data import analyse, closed_case
from ticketing.cases import precedents, services
from ticketing.cases.precedents import Basis, Placement, precedents_for
from ticketing.extensions import db


def case_at_resolve(agent, *, cause="product", category="product", product=None, subject="Kettle leaks", words=""):
    """An open case of `agent` at step 4, analysed as `cause`."""
    customer = services.find_or_create_customer("Li Lei", "li.lei@example.com", None)
    ticket = services.take_complaint(
        agent,
        customer=customer,
        subject=subject,
        description=words or "It leaks.",
        channel="phone",
        category=category,
        product=product,
        listen=dict(LISTEN),
    )
    services.record_apology(ticket, agent, version=ticket.version, method="phone", wording="Sorry.")
    services.record_analysis(
        ticket,
        agent,
        version=ticket.version,
        root_cause=cause,
        detail="Found it",
        legitimacy="justified",
        responsibility="company",
        motive="fix",
        product=product,
    )
    db.session.commit()
    return ticket


def references(found):
    return [case.reference for case in found.cases]


def test_the_same_cause_and_category_rank_before_the_same_cause_elsewhere_however_alike_the_text(agent):
    ticket = case_at_resolve(agent, subject="Kettle leaks from the base", words="Water on the worktop")
    elsewhere = closed_case(
        agent, category="delivery", subject="Kettle leaks from the base", description="Water on the worktop"
    )
    peer = closed_case(agent, subject="Toaster burns bread", description="Smoke in the kitchen")
    found = precedents_for(ticket)
    assert references(found) == [peer.reference, elsewhere.reference]
    assert [case.same_group for case in found.cases] == [True, False]


def test_text_similarity_orders_the_cases_within_a_tier(agent):
    ticket = case_at_resolve(agent, subject="Kettle leaks from the base", words="Water all over the worktop")
    unlike = closed_case(agent, subject="Toaster burns bread", description="Smoke in the kitchen", closed_days_ago=1)
    alike = closed_case(
        agent, subject="Kettle leaks at the base", description="Water on the worktop", closed_days_ago=9
    )
    close = closed_case(agent, subject="Kettle drips", description="A little water", closed_days_ago=5)
    found = precedents_for(ticket)
    assert references(found) == [alike.reference, close.reference, unlike.reference]
    assert found.cases[0].similarity > found.cases[1].similarity > found.cases[2].similarity


def test_chinese_texts_are_compared_by_their_character_pairs(agent):
    ticket = case_at_resolve(agent, subject="电热水壶漏水", words="水壶底座漏水，台面全湿了")
    unlike = closed_case(agent, subject="电视屏幕出现亮线", description="屏幕有一条竖线", closed_days_ago=1)
    alike = closed_case(agent, subject="水壶用了两天就漏水", description="新买的水壶漏水", closed_days_ago=3)
    assert references(precedents_for(ticket)) == [alike.reference, unlike.reference]


def test_the_same_product_in_another_category_counts_as_the_same_group(agent):
    ticket = case_at_resolve(agent, category="after_sales", product="KX-200 kettle")
    same_product = closed_case(agent, category="product", product="KX-200 kettle", closed_days_ago=3)
    cause_only = closed_case(agent, category="delivery", product="Sofa", closed_days_ago=1)
    found = precedents_for(ticket)
    assert references(found) == [same_product.reference, cause_only.reference]
    assert found.cases[0].same_group and not found.cases[1].same_group


def test_only_closed_cases_granted_compensation_for_the_same_root_cause_count(agent):
    ticket = case_at_resolve(agent)
    counted = closed_case(agent, lines=[("refund", 80)])
    closed_case(agent, status="open", state="awaiting_customer")
    closed_case(agent, status="cancelled")
    closed_case(agent, state="refused")
    closed_case(agent, state="rejected")
    closed_case(agent, lines=[])  # settled without compensation
    closed_case(agent, cause="service")
    found = precedents_for(ticket)
    assert references(found) == [counted.reference]
    assert found.peers == 1


def test_a_precedent_shows_the_resolution_carried_out_not_the_refused_one(agent):
    ticket = case_at_resolve(agent)
    closed_case(agent, lines=[("refund", 60), ("apology_letter", None)], earlier=[("refused", [("refund", 900)])])
    (case,) = precedents_for(ticket).cases
    assert [(line.type, line.amount) for line in case.lines] == [("refund", Decimal("60.00")), ("apology_letter", None)]
    assert precedents_for(ticket).band_for("refund", "CNY").count == 1


def test_the_latest_analysis_decides_the_root_cause(agent):
    ticket = case_at_resolve(agent)
    reanalysed = closed_case(agent, cause="product")
    analyse(reanalysed, agent, "customer_misuse")
    db.session.commit()
    assert precedents_for(ticket).cases == []


def test_a_precedent_carries_its_loss_and_how_it_ended(agent):
    ticket = case_at_resolve(agent)
    closed_case(agent, loss=150, follow_up=("satisfied", 4, "at_risk"))
    closed_case(agent, closed_days_ago=2, follow_up=None)
    first, second = precedents_for(ticket).cases
    assert (first.estimated_loss, first.satisfied, first.satisfaction, first.retention) == (
        Decimal("150.00"),
        True,
        4,
        "at_risk",
    )
    assert (first.root_cause, first.category) == ("product", "product")
    assert (second.satisfied, second.retention) == (None, None)


def test_a_case_closed_through_the_services_is_a_precedent(agent, supervisor):
    ticket = case_at_resolve(agent, category=None)
    done = to_step(case_at_resolve(agent, category=None, subject="Kettle leaks again"), agent, "review", amount=70)
    services.record_review(done, agent, version=done.version, summary="Done", lesson="Check seals")
    services.approve_review(done, supervisor, version=done.version)
    db.session.commit()
    found = precedents_for(ticket)
    assert found.basis == Basis.CAUSE
    (case,) = found.cases
    assert (case.reference, case.satisfied, case.retention) == (done.reference, True, "retained")
    assert [(line.type, line.amount) for line in case.lines] == [("refund", Decimal("70.00")), ("apology_letter", None)]


def test_the_band_gives_the_median_and_middle_half_per_type_and_currency(agent):
    ticket = case_at_resolve(agent)
    for days, amount in enumerate([50, 10, 40, 20, 30]):
        closed_case(agent, lines=[("refund", amount), ("apology_letter", None)], closed_days_ago=days + 1)
    closed_case(agent, lines=[("refund", 5, "USD"), ("refund", 7, "USD")], currency="USD", closed_days_ago=9)
    found = precedents_for(ticket)
    refund = found.band_for("refund", "CNY")
    assert (refund.count, refund.low, refund.median, refund.high) == (
        5,
        Decimal("20.00"),
        Decimal("30.00"),
        Decimal("40.00"),
    )
    usd = found.band_for("refund", "usd")
    assert (usd.count, usd.enough) == (1, False)  # one case, its two refunds summed
    assert found.band_for("apology_letter", "CNY") is None  # no amounts, no band
    assert found.peers == 6


def test_quartiles_interpolate_between_the_cases(agent):
    ticket = case_at_resolve(agent)
    for days, amount in enumerate([100, 200, 300, 400]):
        closed_case(agent, lines=[("voucher", amount)], closed_days_ago=days + 1)
    band = precedents_for(ticket).band_for("voucher", "CNY")
    assert (band.low, band.median, band.high) == (Decimal("175.00"), Decimal("250.00"), Decimal("325.00"))


def test_fewer_than_three_cases_make_no_band(agent):
    ticket = case_at_resolve(agent)
    closed_case(agent, lines=[("voucher", 20)])
    closed_case(agent, lines=[("voucher", 40)], closed_days_ago=2)
    found = precedents_for(ticket)
    band = found.band_for("voucher", "CNY")
    assert (band.count, band.enough, band.median) == (2, False, None)
    assert found.place("voucher", 500, "CNY") is None


def test_placement_is_below_within_or_above_the_middle_half(agent):
    ticket = case_at_resolve(agent)
    for days, amount in enumerate([10, 20, 30, 40, 50]):
        closed_case(agent, lines=[("refund", amount)], closed_days_ago=days + 1)
    found = precedents_for(ticket)
    assert [found.place("refund", amount, "CNY") for amount in (19.99, 20, 35, 40, "40.01")] == [
        Placement.BELOW,
        Placement.WITHIN,
        Placement.WITHIN,
        Placement.WITHIN,
        Placement.ABOVE,
    ]
    assert found.place("refund", 100, "USD") is None  # no band in that currency
    assert found.place("gift", 100, "CNY") is None


def test_a_proposal_is_assessed_per_type_with_its_lines_summed(agent):
    ticket = case_at_resolve(agent)
    for days, amount in enumerate([10, 20, 30, 40, 50]):
        closed_case(agent, lines=[("refund", amount)], closed_days_ago=days + 1)
    proposal = [("refund", Decimal(15)), ("refund", Decimal(30)), ("apology_letter", None), ("gift", Decimal(5))]
    lines = [SimpleNamespace(type=kind, amount=amount, currency="CNY") for kind, amount in proposal]
    assessed = precedents_for(ticket).assess(lines)
    assert [(a.type, a.amount, a.placement) for a in assessed] == [
        ("refund", Decimal(45), Placement.ABOVE),
        ("gift", Decimal(5), None),
    ]


def test_the_band_is_drawn_from_a_bounded_recent_set(agent, monkeypatch):
    monkeypatch.setattr(precedents, "PEERS", 3)
    ticket = case_at_resolve(agent)
    for days, amount in enumerate([10, 20, 30, 900, 900]):
        closed_case(agent, lines=[("refund", amount)], closed_days_ago=days + 1)
    band = precedents_for(ticket).band_for("refund", "CNY")
    assert (band.count, band.median) == (3, Decimal("20.00"))


def test_the_limit_caps_the_cases_and_the_case_itself_never_counts(agent):
    ticket = case_at_resolve(agent)
    for days in range(7):
        closed_case(agent, closed_days_ago=days + 1)
    found = precedents_for(ticket, limit=3)
    assert len(found.cases) == 3 and found.peers == 7
    assert ticket.reference not in references(precedents_for(ticket, limit=10))


@pytest.mark.parametrize("category, basis", [("product", Basis.CAUSE_AND_CATEGORY), (None, Basis.CAUSE_AND_PRODUCT)])
def test_the_band_basis_is_the_category_else_the_product(agent, category, basis):
    ticket = case_at_resolve(agent, category=category, product="KX-200 kettle")
    assert precedents_for(ticket).basis == basis


def test_a_case_not_analysed_yet_has_nothing_to_compare(agent):
    customer = services.find_or_create_customer("Li Lei", "li.lei@example.com", None)
    ticket = services.take_complaint(agent, customer=customer, subject="Kettle", description="Leaks", channel="phone")
    db.session.commit()
    closed_case(agent)
    found = precedents_for(ticket)
    assert (found.root_cause, found.cases, found.bands) == (None, [], [])
