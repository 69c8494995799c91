"""Supervisor review: audit with the checklist, approve or return, approvals queue,
preventive actions, lessons, quality sampling."""

from datetime import date

from sqlalchemy import select

from tests.conftest import login
from tests.factories import open_case, to_step
from ticketing.cases import services
from ticketing.cases.improvement import PreventiveAction, QualityScore
from ticketing.cases.models import Reminder
from ticketing.cases.records import ReviewRecord
from ticketing.extensions import db

CHECKS = {f"check_{key}": "y" for key in ("recorded", "apology", "cause", "compensation", "follow_up", "retention")}


def waiting_case(agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review", approver=supervisor)
    services.record_review(
        ticket, agent, version=ticket.version, summary="Kettle replaced next day", lesson="Check seals before shipping"
    )
    db.session.commit()
    return ticket


def test_the_queue_lists_cases_waiting_for_review_oldest_first(client, agent, supervisor, frozen_clock):
    first = waiting_case(agent, supervisor)
    frozen_clock.move(hours=1)
    second = waiting_case(agent, supervisor)
    login(client, supervisor.email)
    page = client.get("/review/").get_data(as_text=True)
    assert page.index(first.reference) < page.index(second.reference)


def test_approving_closes_the_case_and_keeps_the_checklist(client, agent, supervisor):
    ticket = waiting_case(agent, supervisor)
    login(client, supervisor.email)
    page = client.get(f"/review/cases/{ticket.reference}").get_data(as_text=True)
    assert "Audit checklist" in page and "Check seals before shipping" in page
    response = client.post(
        f"/review/cases/{ticket.reference}",
        data={
            "version": ticket.version,
            "decision": "approve",
            "comments": "Well handled",
            **{k: v for k, v in CHECKS.items() if k != "check_compensation"},
        },
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    review = db.session.scalars(select(ReviewRecord).where(ReviewRecord.ticket_id == ticket.id)).one()
    assert ticket.status == "closed" and review.decision == "approved"
    assert review.checklist["compensation"] is False and review.checklist["apology"] is True


def test_returning_sends_the_case_back_with_comments_and_tells_the_assignee(client, agent, supervisor):
    ticket = waiting_case(agent, supervisor)
    login(client, supervisor.email)
    response = client.post(
        f"/review/cases/{ticket.reference}",
        data={
            "version": ticket.version,
            "decision": "return",
            "return_to": "analyse",
            "comments": "Say why the seal failed",
            **CHECKS,
        },
    )
    assert response.status_code == 302
    db.session.refresh(ticket)
    assert (ticket.status, ticket.step) == ("open", "analyse")
    notice = db.session.scalars(select(Reminder).where(Reminder.kind == "review_returned")).one()
    assert notice.user_id == agent.id and notice.status == "pending"


def test_returning_without_a_step_or_comment_is_refused_next_to_the_fields(client, agent, supervisor):
    ticket = waiting_case(agent, supervisor)
    login(client, supervisor.email)
    response = client.post(
        f"/review/cases/{ticket.reference}",
        data={"version": ticket.version, "decision": "return", "return_to": "", "comments": ""},
    )
    assert response.status_code == 422
    assert b"Choose the step the case goes back to." in response.data and b"Say what needs doing." in response.data
    db.session.refresh(ticket)
    assert ticket.status == "open" and ticket.step == "review"


def test_the_approvals_queue_approves_and_comes_back(client, agent, supervisor):
    ticket = to_step(open_case(agent), agent, "resolve")
    from tests.factories import propose

    propose(ticket, agent, amount=900)
    login(client, supervisor.email)
    assert ticket.reference in client.get("/review/approvals").get_data(as_text=True)
    response = client.post(
        f"/tickets/{ticket.reference}/actions/approve_compensation",
        data={"approve_compensation-version": ticket.version, "next": "/review/approvals"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/review/approvals")
    db.session.refresh(ticket)
    assert ticket.resolution_state == "awaiting_customer"


def test_a_preventive_action_is_owned_reminded_done_and_verified(app, agent, supervisor):
    ticket = waiting_case(agent, supervisor)
    sup_client, agent_client = app.test_client(), app.test_client()
    login(sup_client, supervisor.email)
    login(agent_client, agent.email)
    response = sup_client.post(
        f"/review/cases/{ticket.reference}/preventive-actions",
        data={"description": "Pressure-test seals at the warehouse", "owner": agent.id, "due_date": "2099-01-10"},
    )
    assert response.status_code == 302
    action = db.session.scalars(select(PreventiveAction)).one()
    assert action.root_cause == "product" and action.status == "open"
    reminder = db.session.scalars(select(Reminder).where(Reminder.kind == "preventive_action_due")).one()
    assert reminder.user_id == agent.id and reminder.due_at.date() == date(2099, 1, 10)
    assert agent_client.post(f"/review/preventive-actions/{action.id}/verify").status_code == 302
    db.session.refresh(action)
    assert action.status == "open"  # an agent cannot verify, and nothing is done yet
    agent_client.post(f"/review/preventive-actions/{action.id}/done", data={"note": "Test rig installed"})
    sup_client.post(f"/review/preventive-actions/{action.id}/verify")
    db.session.refresh(action)
    db.session.refresh(reminder)
    assert action.status == "verified" and reminder.status == "cancelled"


def test_lessons_are_searchable_across_cases(client, agent, supervisor):
    waiting_case(agent, supervisor)
    login(client, agent.email)
    assert "Check seals before shipping" in client.get("/review/lessons?q=seals").get_data(as_text=True)
    assert "Check seals before shipping" not in client.get("/review/lessons?q=invoice").get_data(as_text=True)


def test_quality_sampling_scores_closed_cases_per_agent(client, agent, supervisor):
    ticket = waiting_case(agent, supervisor)
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    login(client, supervisor.email)
    assert client.post("/review/quality", data={"size": 5, "agent": "", "category": ""}).status_code == 302
    row = db.session.scalars(select(QualityScore)).one()
    assert row.ticket_id == ticket.id and row.agent_id == agent.id
    client.post(f"/review/quality/{row.id}", data={**dict(list(CHECKS.items())[:3]), "comment": "ok"})
    db.session.refresh(row)
    assert row.score == 50
    page = client.get("/review/quality").get_data(as_text=True)
    assert "Ann Agent" in page and "50%" in page


def test_agents_cannot_use_the_review_pages(client, agent, supervisor):
    ticket = waiting_case(agent, supervisor)
    login(client, agent.email)
    assert client.get("/review/").status_code == 403
    assert (
        client.post(
            f"/review/cases/{ticket.reference}", data={"version": ticket.version, "decision": "approve"}
        ).status_code
        == 403
    )


def _draw(client, size: int) -> str:
    assert client.post("/review/quality", data={"size": size, "agent": "", "category": ""}).status_code == 302
    return client.get("/review/quality").get_data(as_text=True)


def test_a_draw_never_takes_a_case_waiting_to_be_scored_and_says_how_many_it_drew(client, agent, supervisor):
    first, second = waiting_case(agent, supervisor), waiting_case(agent, supervisor)
    for ticket in (first, second):
        services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    login(client, supervisor.email)
    assert "Drew 1 case to score." in _draw(client, 1)
    text = _draw(client, 5)
    assert "Drew 1 case to score. Fewer than the 5 asked for" in text
    assert "1 more matches but already waits to be scored" in text
    rows = db.session.scalars(select(QualityScore)).all()
    assert sorted(row.ticket_id for row in rows) == sorted([first.id, second.id])  # each drawn once
    assert "Drew 0 cases to score." in _draw(client, 3)
    assert len(db.session.scalars(select(QualityScore)).all()) == 2
