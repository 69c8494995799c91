"""Recovery outcomes: a customer judged lost or at risk at the follow-up is on Customers at risk with the
kind and cause of churn (seeds 003 and 000) and can be won back, unless fraudulent; the figures say what
their shares are of; the value tier is set at intake, and a high-value tier counts for real customers."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.api.conftest import make_api  # noqa: F401 (the API fixture, here too)
from tests.api.payloads import act, complaint, problem, read
from tests.conftest import login
from tests.factories import LISTEN, to_step
from ticketing.cases import risk, services, winback
from ticketing.cases.customers import CustomerEvent
from ticketing.cases.models import Customer
from ticketing.cases.queries import find_ticket
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.insight import recovery
from ticketing.insight.filters import Filters

LOST = dict(retention="lost", churn_type="negligent", churn_cause="unkept_promises")
FRAUD = dict(retention="lost", churn_type="fraudulent", churn_cause="other")


def judged(ticket, actor, *, outcome="satisfied", satisfaction=3, **churn):
    """The follow-up call, judging the customer as `churn` says (retained when empty)."""
    services.record_follow_up(
        ticket,
        actor,
        version=ticket.version,
        method="phone",
        outcome=outcome,
        satisfaction=satisfaction,
        return_to="resolve" if outcome == "unsatisfied" else None,
        **({"retention": "retained"} | churn),
    )
    db.session.commit()
    return ticket


def at_follow_up(agent, name="Li Lei", email="li.lei@example.com"):
    """A case of the customer with this e-mail (their only contact), carried out and waiting for the call."""
    customer = services.find_or_create_customer(name, email, None)
    ticket = services.take_complaint(
        agent, customer=customer, subject="Leaking kettle", description="It leaks.", channel="phone", listen=LISTEN
    )
    db.session.commit()
    return to_step(ticket, agent, "follow_up")


def listed(name) -> risk.AtRisk | None:
    return next((item for item in risk.at_risk(utcnow()) if item.customer.name == name), None)


def page(client, path="/insight/at-risk") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def win_back_form(customer_id, owner_id):
    due = (utcnow() + timedelta(days=7)).date().isoformat()
    return {f"c{customer_id}-owner": owner_id, f"c{customer_id}-due_date": due, f"c{customer_id}-plan": "Visit"}


# --- on Customers at risk ---------------------------------------------------------------------------


def test_a_lost_customer_appears_on_customers_at_risk_and_a_win_back_can_be_started(client, agent, supervisor):
    ticket = judged(at_follow_up(agent), agent, satisfaction=4, **LOST)  # problem solved, customer leaving anyway
    login(client, supervisor.email)
    text = page(client)
    row = text.split(f'id="customer-{ticket.customer_id}"')[1].split("</tr>")[0]
    assert "Judged lost at the follow-up" in row and "+5" in row
    assert "Negligent (our own failure)" in row and "Unkept promises" in row
    assert "Start a win-back action" in row
    response = client.post(
        f"/insight/at-risk/{ticket.customer_id}/win-back", data=win_back_form(ticket.customer_id, agent.id)
    )
    assert response.status_code == 302
    action = winback.open_action_for(ticket.customer_id)
    assert action.owner_id == agent.id and "lost" in action.reasons and action.risk_score == 5


def test_an_at_risk_follow_up_shows_there_with_its_reason(client, agent, supervisor):
    ticket = at_follow_up(agent)
    judged(ticket, agent, retention="at_risk", churn_type="competitive", churn_cause="price")
    item = listed("Li Lei")
    assert item.reason_keys == ["at_risk"] and item.score == 3
    assert item.churn == "Competitive (won by a competitor) · Price"
    login(client, supervisor.email)
    text = page(client)
    assert "Judged at risk at the follow-up" in text and "Competitive (won by a competitor) · Price" in text


def test_only_the_latest_follow_up_of_a_case_judges_the_customer(agent):
    ticket = judged(at_follow_up(agent), agent, outcome="unsatisfied", satisfaction=3, **LOST)
    assert listed("Li Lei").reason_keys == ["lost", "low_rating"]
    to_step(find_ticket(ticket.reference), agent, "review")  # followed up again: retained after all
    assert listed("Li Lei").reason_keys == ["low_rating"]  # the unsatisfied call still counts; the loss does not


def test_the_customer_page_shows_the_judgement(client, agent):
    ticket = judged(at_follow_up(agent), agent, **LOST)
    login(client, agent.email)
    panel = page(client, f"/customers/{ticket.customer_id}").split('id="risk"')[1].split("</section>")[0]
    assert "Judged lost at the follow-up" in panel and "Unkept promises" in panel


# --- fraudulent: kept off win-back ---------------------------------------------------------------------


def test_a_fraudulent_customer_is_listed_but_kept_off_win_back_and_the_page_says_why(client, agent, supervisor):
    ticket = judged(at_follow_up(agent), agent, **FRAUD)
    login(client, supervisor.email)
    row = page(client).split(f'id="customer-{ticket.customer_id}"')[1].split("</tr>")[0]
    assert "Passive, fraudulent" in row and "no need to retain them" in row
    assert "Start a win-back action" not in row
    response = client.post(
        f"/insight/at-risk/{ticket.customer_id}/win-back", data=win_back_form(ticket.customer_id, agent.id)
    )
    assert response.status_code == 409 and "no need to retain them" in response.get_data(as_text=True)
    assert winback.open_action_for(ticket.customer_id) is None


def test_one_fraudulent_case_keeps_the_customer_off_win_back_whatever_the_later_ones_say(agent, supervisor):
    judged(at_follow_up(agent), agent, **FRAUD)
    second = at_follow_up(agent)  # the same customer (same e-mail), a later case judged at risk
    judged(second, agent, retention="at_risk", churn_type="competitive", churn_cause="price")
    customer = db.session.get(Customer, second.customer_id)
    with pytest.raises(WorkflowError, match="no need to retain them"):
        winback.start_win_back(
            customer, supervisor, owner=agent, due_date=utcnow().date() + timedelta(days=3), plan="x"
        )


# --- kind and cause of churn: required, or refused -------------------------------------------------------


@pytest.mark.parametrize(
    "churn,field,message",
    [
        (dict(retention="lost", churn_cause="price"), "churn_type", "say what kind of churn this is"),
        (dict(retention="at_risk", churn_type="competitive"), "churn_cause", "say what causes it"),
        (dict(retention="retained", churn_type="competitive"), "churn_type", "leave the kind and the cause"),
        (dict(retention="retained", churn_cause="price"), "churn_cause", "leave the kind and the cause"),
    ],
)
def test_kind_and_cause_of_churn_are_required_when_leaving_and_refused_when_retained(agent, churn, field, message):
    ticket = at_follow_up(agent)
    with pytest.raises(WorkflowError, match=message) as refused:
        judged(ticket, agent, **churn)
    assert refused.value.field == field
    db.session.rollback()
    assert find_ticket(ticket.reference).step == "follow_up"


def test_the_desk_form_says_so_next_to_the_field(client, agent):
    ticket = at_follow_up(agent)
    login(client, agent.email)
    fields = {"method": "phone", "outcome": "satisfied", "satisfaction": "4", "retention": "lost"}
    data = {f"follow_up-{name}": value for name, value in {"version": ticket.version, **fields}.items()}
    response = client.post(
        f"/tickets/{ticket.reference}/actions/follow_up", data={**data, "follow_up-churn_type": "natural"}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "say what causes it" in text and 'id="follow_up-churn_cause-error"' in text
    data.update({"follow_up-churn_type": "natural", "follow_up-churn_cause": "other"})
    assert client.post(f"/tickets/{ticket.reference}/actions/follow_up", data=data).status_code == 302
    record = find_ticket(ticket.reference)
    assert record.step == "review"
    log = page(client, f"/tickets/{ticket.reference}")
    assert "Kind of churn" in log and "Cause of churn" in log and "Other (their buyer left" in log


def test_the_api_takes_the_cause_and_refuses_it_for_a_retained_customer(make_api, agent):
    api, ticket = make_api(agent), at_follow_up(agent)
    base = {"method": "phone", "outcome": "satisfied", "satisfaction": 4}
    refused = act(api, ticket.reference, "follow_up", {**base, "retention": "retained", "churn_cause": "price"})
    [error] = problem(refused, 422)["errors"]
    assert error["field"] == "churn_cause" and "retained" in error["message"]
    bad = act(api, ticket.reference, "follow_up", {**base, **LOST, "churn_cause": "bad\u0000cause"})
    assert problem(bad, 422)["errors"][0]["field"] == "churn_cause"
    done = act(api, ticket.reference, "follow_up", {**base, **LOST})
    assert done.status_code == 200, done.get_json()
    record = read(api, ticket.reference)["records"]["follow_up"][-1]
    assert (record["churn_type"], record["churn_cause"]) == ("negligent", "unkept_promises")


# --- the figures say their denominator ----------------------------------------------------------------


@pytest.fixture
def three_followed_up(agent):
    judged(at_follow_up(agent, "Ann", "ann@example.com"), agent)
    judged(at_follow_up(agent, "Bob", "bob@example.com"), agent, **LOST)
    judged(
        at_follow_up(agent, "Cai", "cai@example.com"),
        agent,
        retention="at_risk",
        churn_type="competitive",
        churn_cause="price",
    )


def test_retention_and_churn_rates_say_what_they_are_of(three_followed_up):
    result = recovery.retention(_period())
    labels = {key: str(stat.label) for key, stat in result.headline.items()}
    assert labels["retention_rate"] == "Retention rate, of 3 customers followed up"
    assert labels["churn_rate"] == "Churn rate, of 3 customers followed up"
    assert [str(note) for note in result.notes] == [
        "Each share is of 3 customers followed up (each customer counted once)."
    ]


def test_churn_figures_say_what_their_shares_are_of(three_followed_up):
    types = recovery.churn_types(_period())
    assert [str(note) for note in types.notes] == ["Each share is of 1 customer judged lost at their latest follow-up."]
    causes = recovery.churn_causes(_period())
    rows = {str(row[0]): row[1:] for row in causes.rows}
    assert rows["Price"] == [0, 1, 50.0] and rows["Unkept promises (rebates, rewards not paid)"] == [1, 0, 50.0]
    assert "of 2 customers judged lost or at risk" in str(causes.notes[0])


def test_the_dashboard_tiles_name_the_denominator(client, supervisor, three_followed_up):
    login(client, supervisor.email)
    tiles = page(client, "/insight/").split('class="tiles"')[1].split("</ul>")[0]
    assert "Retention rate, of 3 customers followed up" in tiles and "Churn rate, of 3 customers followed up" in tiles


def _period() -> Filters:
    now = utcnow()
    return Filters(now.date() - timedelta(days=1), now.date() + timedelta(days=1), ZoneInfo("UTC"), now)


# --- the value tier of real customers ------------------------------------------------------------------


def _intake(client, **fields):
    data = {
        "customer_name": "Gao Min",
        "customer_phone": "+86 139 0000 1111",
        "subject": "Fridge noisy",
        "channel": "phone",
        "priority": "normal",
        "customer_words": "It hums all night.",
        **fields,
    }
    return client.post("/intake", data=data)


def test_desk_intake_sets_the_tier_and_the_high_value_signal_counts_it(client, agent, supervisor):
    login(client, agent.email)
    assert _intake(client, value_tier="gold").status_code == 302
    customer = db.session.scalar(select(Customer).where(Customer.name == "Gao Min"))
    assert customer.value_tier == "gold"
    [event] = db.session.scalars(select(CustomerEvent).where(CustomerEvent.customer_id == customer.id))
    assert (event.actor_id, event.before, event.after) == (agent.id, {"value_tier": "standard"}, {"value_tier": "gold"})
    assert listed("Gao Min").reason_keys == ["high_value"]
    assert _intake(client, value_tier="").status_code == 302  # calling again, no tier chosen: kept
    db.session.expire_all()
    assert db.session.get(Customer, customer.id).value_tier == "gold"


def test_desk_intake_refuses_a_tier_the_catalogue_lacks(client, agent):
    login(client, agent.email)
    response = _intake(client, value_tier="platinum")
    assert response.status_code == 422 and "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(select(Customer).where(Customer.name == "Gao Min")) is None


def test_api_intake_sets_the_tier_and_refuses_an_unknown_one(make_api, agent):
    api = make_api(agent)
    response = api.post("/api/v1/tickets", json=complaint(customer={"value_tier": "gold"}))
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(select(Customer.value_tier).where(Customer.email == "li.lei@example.com")) == "gold"
    unknown = api.post("/api/v1/tickets", json=complaint(customer={"value_tier": "platinum"}))
    [error] = problem(unknown, 422)["errors"]
    assert error["field"] == "customer.value_tier" and "value tiers: standard, silver, gold, vip" in error["message"]
    hostile = api.post("/api/v1/tickets", json=complaint(customer={"value_tier": "gold\u0000"}))
    assert problem(hostile, 422)["errors"][0]["field"] == "customer.value_tier"
