"""The precedents panel on the proposal form, on the approve step and on the approvals page, in both languages."""

from datetime import timedelta

import pytest

from tests.conftest import login
from tests.precedents_data import closed_case
from tests.unit.test_precedents import case_at_resolve
from ticketing.cases import services
from ticketing.clock import utcnow
from ticketing.extensions import db

HEADING = {"en": "Precedents: what similar cases received", "zh_CN": "补偿先例：类似案件得到了什么"}
ABOVE = {"en": "Above what similar cases received", "zh_CN": "高于类似案件的补偿"}


def five_refunds(staff):
    """Five closed kettle cases refunded 10…50 CNY: median 30, middle half 20–40."""
    return [
        closed_case(
            staff,
            subject="Kettle leaks from the base",
            lines=[("refund", amount), ("apology_letter", None)],
            loss=amount * 2,
            closed_days_ago=days + 1,
            follow_up=("satisfied" if days % 2 == 0 else "unsatisfied", 4, "retained" if days < 4 else "lost"),
        )
        for days, amount in enumerate([10, 20, 30, 40, 50])
    ]


def propose_refund(ticket, agent, amount):
    services.propose_resolution(
        ticket,
        agent,
        version=ticket.version,
        method="Refund",
        promised_date=(utcnow() + timedelta(days=3)).date(),
        currency="CNY",
        estimated_loss=amount,
        lines=[{"type": "refund", "amount": amount}],
    )
    db.session.commit()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_proposal_form_shows_the_bands_and_the_closest_cases(client, make_user, lang):
    agent = make_user("agent", locale=lang)
    ticket = case_at_resolve(agent, subject="Kettle leaks from the base")
    cases = five_refunds(agent)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert HEADING[lang] in page
    assert "data-precedent-bands" in page and 'data-type="refund"' in page
    assert 'data-low="20.00"' in page and 'data-high="40.00"' in page
    assert ">30.00 CNY<" in page and "20.00–40.00 CNY" in page
    assert all(f'href="/tickets/{case.reference}"' in page for case in cases)
    assert "js/precedents.js" in page
    assert page.index(HEADING[lang]) < page.index('name="propose-method"')
    if lang == "zh_CN":
        assert "根本原因和类别相同的已结案件" in page and "满意（4/5）" in page and "不满意（4/5）" in page
        assert "高于类似案件的补偿：其中间一半为 20.00–40.00 CNY（中位数 30.00）。" in page
    else:
        assert "closed cases with the same root cause and category" in page
        assert "Satisfied (4/5)" in page and "Unsatisfied (4/5)" in page and "Lost" in page
        assert "Above what similar cases received: their middle half is 20.00–40.00 CNY (median 30.00)." in page


def test_no_precedents_says_there_is_nothing_to_compare(client, agent):
    ticket = case_at_resolve(agent)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "No closed case with this root cause has been granted compensation yet" in page
    assert "data-precedent-bands" not in page


def test_too_few_cases_of_a_type_show_no_band(client, agent):
    ticket = case_at_resolve(agent)
    closed_case(agent, lines=[("voucher", 20)])
    closed_case(agent, lines=[("voucher", 80)], closed_days_ago=2)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Too few cases for a band (fewer than 3)" in page
    assert "Too few similar cases received a priced compensation to show a band" in page
    assert 'data-type="voucher"' not in page


def test_the_panel_is_not_shown_before_the_resolution_step(client, agent):
    customer = services.find_or_create_customer("Li Lei", "li.lei@example.com", None)
    ticket = services.take_complaint(agent, customer=customer, subject="Kettle", description="Leaks", channel="phone")
    db.session.commit()
    closed_case(agent)
    login(client, agent.email)
    assert HEADING["en"] not in client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_approvals_page_places_the_proposal_against_the_band(client, agent, make_user, lang):
    supervisor = make_user("supervisor", locale=lang)
    ticket = case_at_resolve(agent)
    five_refunds(agent)
    propose_refund(ticket, agent, 800)
    assert ticket.resolution_state == "awaiting_approval"
    login(client, supervisor.email)
    page = client.get("/review/approvals").get_data(as_text=True)
    assert HEADING[lang] in page and ABOVE[lang] in page
    assert "800.00 CNY" in page
    assert (
        "中间一半 20.00–40.00，中位数 30.00" if lang == "zh_CN" else "middle half 20.00–40.00, median 30.00"
    ) in page
    assert "data-precedent-bands" not in page and "js/precedents.js" not in page  # nothing typed here


def test_the_approve_step_on_the_case_page_places_the_proposal_too(client, agent, supervisor):
    ticket = case_at_resolve(agent)
    five_refunds(agent)
    propose_refund(ticket, agent, 250)
    login(client, supervisor.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Approve compensation" in page
    assert "Refund 250.00 CNY" in page and ABOVE["en"] in page


def test_a_proposal_within_the_band_says_so(client, agent, supervisor):
    ticket = case_at_resolve(agent)
    five_refunds(agent)
    for days in range(3):
        closed_case(agent, lines=[("refund", 300)], closed_days_ago=10 + days)  # middle half now 27.50–300.00
    propose_refund(ticket, agent, 250)
    login(client, supervisor.email)
    page = client.get("/review/approvals").get_data(as_text=True)
    assert "Within what similar cases received" in page
