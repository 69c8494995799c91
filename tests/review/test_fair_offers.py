"""Fair offers: one currency per desk at every door, an offer out of proportion to the loss needs a reason and
a supervisor's approval (weighed by who was responsible), the approvals queue says why an offer waits, and the
review checklist's suggestion follows the same rule."""

import html
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.api.conftest import ApiClient
from tests.conftest import login
from tests.factories import open_case, to_step
from ticketing.auth.tokens import issue_token
from ticketing.cases import checklist, services, settings
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db

PROMISED = (utcnow() + timedelta(days=10)).date()


def at_resolve(agent, responsibility="company"):
    ticket = open_case(agent)
    to_step(ticket, agent, "analyse")
    services.record_analysis(
        ticket,
        agent,
        version=ticket.version,
        root_cause="product",
        detail="Seal",
        legitimacy="justified",
        responsibility=responsibility,
        motive="fix",
    )
    db.session.commit()
    return ticket


def offer(ticket, actor, amount, loss=None, justification="", currency="CNY"):
    services.propose_resolution(
        ticket,
        actor,
        version=ticket.version,
        method="Refund",
        promised_date=PROMISED,
        currency=currency,
        estimated_loss=None if loss is None else Decimal(loss),
        lines=[{"type": "refund", "amount": Decimal(amount)}],
        justification=justification,
    )
    db.session.commit()


def proposal_form(ticket, **fields):
    return {
        "propose-version": ticket.version,
        "propose-method": "Refund",
        "propose-promised_date": PROMISED.isoformat(),
        "propose-currency": "CNY",
        "propose-lines-0-compensation": "refund",
        **{f"propose-{name}": value for name, value in fields.items()},
    }


@pytest.fixture
def agent_api(client, agent):
    _row, secret = issue_token(agent, "tests")
    db.session.commit()
    return ApiClient(client, secret)


def api_propose(api, ticket, **body):
    answer = {
        "version": ticket.version,
        "method": "Refund",
        "promised_date": PROMISED.isoformat(),
        "compensation": [{"type": "refund", "amount": body.pop("amount")}],
        **body,
    }
    return api.post(f"/api/v1/tickets/{ticket.reference}/actions/propose", json=answer)


# --- one currency per desk ------------------------------------------------------------------------


def test_a_proposal_in_another_currency_is_refused_at_the_desk_form(client, agent):
    """The issue's 200 EUR from an agent with a 200 limit: it never reaches the customer."""
    ticket = at_resolve(agent)
    login(client, agent.email)
    response = client.post(
        f"/tickets/{ticket.reference}/actions/propose",
        data=proposal_form(ticket, currency="EUR", **{"lines-0-amount": "200"}),
    )
    assert response.status_code == 422
    assert "This desk works in CNY: propose the compensation in CNY." in response.get_data(as_text=True)
    db.session.refresh(ticket)
    assert ticket.resolution_state == "none" and services.current_resolution(ticket) is None


def test_a_proposal_in_another_currency_is_refused_through_the_api(agent_api, agent):
    ticket = at_resolve(agent)
    response = api_propose(agent_api, ticket, amount="200", currency="EUR")
    assert response.status_code == 422
    body = response.get_json()
    assert "This desk works in CNY" in body["detail"] and {e["field"] for e in body["errors"]} == {"currency"}
    db.session.refresh(ticket)
    assert ticket.resolution_state == "none"


def test_a_proposal_in_no_currency_is_refused_too(agent):
    ticket = at_resolve(agent)
    with pytest.raises(WorkflowError) as refused:
        offer(ticket, agent, "50", currency="")
    assert refused.value.field == "currency"


# --- proportion -----------------------------------------------------------------------------------


def test_an_offer_out_of_proportion_needs_a_reason_and_then_waits_for_approval(agent, supervisor):
    """The issue's 4,900 refund against an estimated loss of 100."""
    ticket = at_resolve(agent)
    with pytest.raises(WorkflowError) as refused:
        offer(ticket, agent, "4900", loss="100")
    assert refused.value.field == "justification" and "up to 200.00 goes without approval" in str(refused.value)
    db.session.rollback()
    offer(ticket, agent, "4900", loss="100", justification="The customer lost a day's work twice.")
    assert ticket.resolution_state == "awaiting_approval"
    waiting = services.current_resolution(ticket)
    assert waiting.lines[0].approved_by_id is None


def test_an_offer_within_the_agents_limit_but_out_of_proportion_waits_too(agent):
    ticket = at_resolve(agent)
    offer(ticket, agent, "180", loss="50", justification="A goodwill gesture for a long-standing customer.")
    assert ticket.resolution_state == "awaiting_approval"  # 180 > max(2 × 50, 100), though within 200


def test_no_loss_entered_allows_only_a_small_amount(agent):
    first, second = at_resolve(agent), at_resolve(agent)
    offer(first, agent, "100")
    assert first.resolution_state == "awaiting_customer"
    with pytest.raises(WorkflowError) as refused:
        offer(second, agent, "150")
    assert refused.value.field == "justification"


@pytest.mark.parametrize("responsibility,state", [("company", "awaiting_customer"), ("customer", "awaiting_approval")])
def test_the_allowance_weighs_who_was_responsible(agent, responsibility, state):
    """A loss of 300: the company's fault allows 600, the customer's own 150."""
    ticket = at_resolve(agent, responsibility)
    offer(ticket, agent, "180", loss="300", justification="Kept as a regular customer.")
    assert ticket.resolution_state == state


def test_the_proportion_rule_is_the_desks_setting(agent, admin):
    settings.save(admin, {"proportion_no_loss_amount": "300"}, utcnow())
    db.session.commit()
    ticket = at_resolve(agent)
    offer(ticket, agent, "150")
    assert ticket.resolution_state == "awaiting_customer"


def test_a_refused_factor_names_its_setting(admin):
    with pytest.raises(settings.SettingError) as refused:
        settings.save(admin, {"proportion_factors": {"company": 2}}, utcnow())
    assert refused.value.field == "proportion_factors"


def test_the_desk_form_asks_for_the_reason_next_to_its_field(client, agent):
    ticket = at_resolve(agent)
    login(client, agent.email)
    response = client.post(
        f"/tickets/{ticket.reference}/actions/propose",
        data=proposal_form(ticket, estimated_loss="100", **{"lines-0-amount": "4900"}),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "out of proportion to the customer" in page
    assert 'id="propose-justification-error"' in page
    response = client.post(
        f"/tickets/{ticket.reference}/actions/propose",
        data=proposal_form(
            ticket, estimated_loss="100", justification="Lost two days of work", **{"lines-0-amount": "4900"}
        ),
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.resolution_state == "awaiting_approval"


def test_the_api_takes_the_reason_and_the_offer_waits(agent_api, agent):
    ticket = at_resolve(agent)
    response = api_propose(agent_api, ticket, amount="4900", estimated_loss="100")
    assert response.status_code == 422 and {e["field"] for e in response.get_json()["errors"]} == {"justification"}
    response = api_propose(agent_api, ticket, amount="4900", estimated_loss="100", justification="Two lost days")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["resolution_state"] == "awaiting_approval"


def test_the_approvals_queue_says_why_each_offer_waits(app, agent, supervisor, make_user):
    boss = make_user("supervisor", "boss@example.com", "Bea Boss")
    disproportionate, own = at_resolve(agent), at_resolve(supervisor)
    offer(disproportionate, agent, "4900", loss="100", justification="Lost two days of work")
    offer(own, supervisor, "300", loss="300")
    client = app.test_client()
    login(client, boss.email)
    page = html.unescape(client.get("/review/approvals").get_data(as_text=True))
    assert (
        "Waiting for approval because: above the proposer's own limit; out of proportion to the customer's loss."
        in page
    )
    assert "The proposer's reason: Lost two days of work" in page
    assert (
        "Waiting for approval because: a supervisor's own offer above an agent's limit: another person approves it."
        in page
    )


# --- the review checklist -------------------------------------------------------------------------


def _suggested(agent, supervisor, amount, loss, responsibility="company"):
    ticket = at_resolve(agent, responsibility)
    offer(ticket, agent, amount, loss=loss, justification="Reason given")
    if ticket.resolution_state == "awaiting_approval":
        services.approve_compensation(ticket, supervisor, version=ticket.version)
        db.session.commit()
    return checklist.suggest(ticket)["compensation"]


def test_the_checklist_never_suggests_proportionate_without_a_loss(agent, supervisor):
    assert _suggested(agent, supervisor, "50", None) is False


def test_the_checklist_follows_the_proposals_rule(agent, supervisor):
    assert _suggested(agent, supervisor, "150", "100") is True  # company: up to 200
    assert _suggested(agent, supervisor, "150", "100", "customer") is False  # the customer's own: up to 100
    assert _suggested(agent, supervisor, "4900", "100") is False
