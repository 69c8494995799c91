"""The desk as an agent and a supervisor use it: intake, step forms, conflicts, refusals."""

import re
from datetime import date, timedelta

from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import open_case, to_step
from ticketing.cases.audit import Event
from ticketing.cases.models import Customer, Ticket
from ticketing.extensions import db

PROMISED = (date.today() + timedelta(days=10)).isoformat()  # within the two years a promise may reach

INTAKE = {
    "customer_name": "Zhang Wei",
    "customer_phone": "139 1111 2222",
    "customer_email": "",
    "subject": "Air conditioner not installed",
    "channel": "phone",
    "priority": "high",
    "category": "installation",
    "product": "KFR-35 air conditioner",
    "customer_words": "You promised installation this afternoon and nobody came.",
    "restatement": "You mean the installer did not come as promised, is that right?",
    "restatement_confirmed": "y",
    "expectation": "Installation tomorrow morning",
    "emotion": "angry",
    "dissatisfaction": "explicit",
    "place": "Home, Pudong",
}


def test_intake_creates_the_case_with_step_one_in_one_submission(client, agent):
    login(client, agent.email)
    response = client.post("/intake", data=INTAKE)
    assert response.status_code == 302
    ticket = db.session.scalars(select(Ticket)).one()
    assert response.headers["Location"].endswith(f"/tickets/{ticket.reference}")
    assert re.fullmatch(r"C-\d{4}-\d{6}", ticket.reference)
    assert (ticket.step, ticket.assignee_id, ticket.priority) == ("apologise", agent.id, "high")
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "did not come as promised" in page and "Record the apology" in page


def test_intake_finds_the_existing_customer_by_phone(client, agent):
    login(client, agent.email)
    client.post("/intake", data=INTAKE)
    client.post("/intake", data={**INTAKE, "customer_phone": "13911112222", "customer_name": "Zhang W."})
    assert db.session.scalar(select(func.count(Customer.id))) == 1
    assert db.session.scalar(select(func.count(Ticket.id))) == 2


def test_customer_lookup_answers_with_matches_only(client, agent):
    login(client, agent.email)
    client.post("/intake", data=INTAKE)
    found = client.get("/customers/lookup?q=139-1111-2222").get_json()
    assert [c["name"] for c in found] == ["Zhang Wei"]
    assert client.get("/customers/lookup?q=139").get_json() == []


def test_intake_without_phone_or_email_explains_and_saves_nothing(client, agent):
    login(client, agent.email)
    response = client.post("/intake", data={**INTAKE, "customer_phone": ""})
    assert response.status_code == 422
    assert b"Give a phone number or an email" in response.data
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_intake_leaves_step_one_for_later_when_there_is_no_restatement(client, agent):
    login(client, agent.email)
    client.post("/intake", data={**INTAKE, "restatement": "", "expectation": "", "emotion": ""})
    assert db.session.scalars(select(Ticket)).one().step == "listen"


def test_a_form_cannot_set_fields_the_user_may_not_set(client, agent, supervisor):
    login(client, agent.email)
    client.post(
        "/intake", data={**INTAKE, "step": "review", "status": "closed", "assignee_id": supervisor.id, "role": "admin"}
    )
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.step, ticket.status, ticket.assignee_id) == ("apologise", "open", agent.id)
    client.post(
        f"/tickets/{ticket.reference}/actions/apologise",
        data={
            "apologise-version": ticket.version,
            "apologise-method": "phone",
            "apologise-wording": "Sorry",
            "apologise-step": "review",
        },
    )
    db.session.refresh(ticket)
    assert ticket.step == "analyse"


def test_second_editor_of_a_case_is_told_who_changed_it_and_nothing_is_overwritten(app, agent, supervisor):
    ticket = open_case(agent)
    loaded_version = ticket.version
    first, second = app.test_client(), app.test_client()
    login(first, agent.email)
    login(second, supervisor.email)
    ok = first.post(
        f"/tickets/{ticket.reference}/actions/apologise",
        data={"apologise-version": loaded_version, "apologise-method": "phone", "apologise-wording": "Agent's apology"},
    )
    assert ok.status_code == 302
    late = second.post(
        f"/tickets/{ticket.reference}/actions/apologise",
        data={
            "apologise-version": loaded_version,
            "apologise-method": "email",
            "apologise-wording": "Supervisor's apology",
        },
    )
    assert late.status_code == 409
    text = late.get_data(as_text=True)
    assert "changed by Ann Agent" in text and "Nothing was saved" in text
    assert "Supervisor&#39;s apology" in text or "Supervisor's apology" in text  # the typing is kept
    events = db.session.scalars(select(Event.action).where(Event.ticket_id == ticket.id)).all()
    assert events.count("apologise") == 1


def test_a_forbidden_action_is_refused_with_the_reason_and_changes_nothing(client, agent, supervisor):
    ticket = open_case(agent)
    to_step(ticket, agent, "review", approver=supervisor)
    login(client, agent.email)
    before = (ticket.status, ticket.version)
    response = client.post(
        f"/tickets/{ticket.reference}/actions/approve_review", data={"approve_review-version": ticket.version}
    )
    assert response.status_code == 409
    assert b"Only a supervisor can do this." in response.data
    db.session.refresh(ticket)
    assert (ticket.status, ticket.version) == before


def test_an_agent_cannot_work_another_agents_case(client, agent, make_user):
    other = make_user("agent")
    ticket = open_case(other)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "only its assignee or a supervisor can work on it" in page
    response = client.post(
        f"/tickets/{ticket.reference}/actions/apologise",
        data={"apologise-version": ticket.version, "apologise-method": "phone", "apologise-wording": "x"},
    )
    assert response.status_code == 409 and b"assigned to someone else" in response.data


def test_agent_proposal_above_limit_waits_for_a_supervisor_who_approves_it(app, agent, supervisor):
    ticket = open_case(agent)
    to_step(ticket, agent, "resolve")
    agent_client, supervisor_client = app.test_client(), app.test_client()
    login(agent_client, agent.email)
    login(supervisor_client, supervisor.email)
    response = agent_client.post(
        f"/tickets/{ticket.reference}/actions/propose",
        data={
            "propose-version": ticket.version,
            "propose-method": "Replace the unit",
            "propose-promised_date": PROMISED,
            "propose-currency": "CNY",
            "propose-estimated_loss": "800",
            "propose-lines-0-compensation": "refund",
            "propose-lines-0-amount": "600",
            "propose-lines-1-compensation": "gift",
            "propose-lines-1-details": "Tea set",
            "propose-lines-1-amount": "50",
        },
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.resolution_state == "awaiting_approval"
    assert b"Waiting for a supervisor" in agent_client.get(f"/tickets/{ticket.reference}").data
    response = supervisor_client.post(
        f"/tickets/{ticket.reference}/actions/approve_compensation",
        data={"approve_compensation-version": ticket.version},
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert ticket.resolution_state == "awaiting_customer"


def test_economic_compensation_without_an_amount_is_refused_next_to_the_field(client, agent):
    ticket = open_case(agent)
    to_step(ticket, agent, "resolve")
    login(client, agent.email)
    response = client.post(
        f"/tickets/{ticket.reference}/actions/propose",
        data={
            "propose-version": ticket.version,
            "propose-method": "Refund",
            "propose-promised_date": PROMISED,
            "propose-currency": "CNY",
            "propose-lines-0-compensation": "refund",
        },
    )
    assert response.status_code == 422
    assert b"Economic compensation needs an amount." in response.data
    db.session.refresh(ticket)
    assert ticket.resolution_state == "none"


def test_the_case_page_shows_the_record_log(client, agent):
    ticket = open_case(agent)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Record log" in page and "Case opened" in page and "Complaint heard (step 1)" in page


def test_the_queue_pages_through_every_case_once(app, client, agent):
    app.config["QUEUE_PAGE_SIZE"] = 3
    references = {open_case(agent).reference for _ in range(8)}
    login(client, agent.email)
    seen, url = [], "/queue?view=mine&sort=newest"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r"<strong>(C-\d{4}-\d{6})</strong>", page)
        match = re.search(r'rel="next" href="([^"]+)"', page)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert sorted(seen) == sorted(references) and len(seen) == 8
    assert seen == sorted(seen, reverse=True)


def test_overdue_filter_shows_only_late_cases(client, agent, frozen_clock):
    late = open_case(agent, priority="urgent")
    frozen_clock.move(hours=2)
    fresh = open_case(agent, priority="low", email="other@example.com")
    login(client, agent.email)
    page = client.get("/queue?view=mine&overdue=y").get_data(as_text=True)
    assert late.reference in page and fresh.reference not in page


def test_language_switch_shows_the_desk_in_chinese(client, agent):
    login(client, agent.email)
    client.post("/language", data={"locale": "zh_CN", "next": "/queue"})
    page = client.get("/queue").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
