"""A customer without e-mail answers the survey on the phone: staff who work the case take the answers
down on the case page (the same questions as the portal's); the record log says who did."""

import html

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import open_case, to_step
from ticketing.cases.audit import Event
from ticketing.cases.models import Reminder
from ticketing.cases.survey import SurveyResponse
from ticketing.extensions import db

FORM = {
    "record_survey-satisfaction": "2",
    "record_survey-recommend": "4",
    "record_survey-buy_again": "maybe",
    "record_survey-fair_outcome": "2",
    "record_survey-fair_process": "3",
    "record_survey-fair_treatment": "4",
    "record_survey-comment": "Said the refund took too long",
}


def case_page(client, ticket) -> str:
    return html.unescape(client.get(f"/tickets/{ticket.reference}").get_data(as_text=True))


def record(client, ticket):
    """Post the phone answers from the case page (the version it was loaded at, as the form carries)."""
    data = {**FORM, "record_survey-version": ticket.version}
    return client.post(f"/tickets/{ticket.reference}/actions/record_survey", data=data)


def survey_rows(ticket, kind) -> list[Reminder]:
    return list(db.session.scalars(select(Reminder).where(Reminder.ticket_id == ticket.id, Reminder.kind == kind)))


def phone_only_case(agent):
    ticket = open_case(agent, name="Wang Fang", email=None)
    assert ticket.customer.email is None
    return to_step(ticket, agent, "review")


def test_a_phone_only_customer_gets_no_survey_email_and_staff_record_their_answers(client, agent, frozen_clock):
    ticket = phone_only_case(agent)
    assert survey_rows(ticket, "satisfaction_survey") == [] and survey_rows(ticket, "survey_reminder") == []
    login(client, agent.email)
    page = case_page(client, ticket)
    assert "This customer has no e-mail, so no survey is sent" in page
    assert "Record the customer's answers given on the phone" in page
    assert record(client, ticket).status_code == 302
    response = db.session.scalars(select(SurveyResponse)).one()
    assert (response.satisfaction, response.buy_again, response.recorded_by_id) == (2, "maybe", agent.id)
    assert response.comment == "Said the refund took too long"
    event = db.session.scalars(select(Event).where(Event.action == "record_survey")).one()
    assert (event.actor_id, event.actor_name) == (agent.id, "Ann Agent")
    page = case_page(client, ticket)
    assert "The customer's answers to the survey are saved." in page
    assert "Customer's rating, taken down by staff on the phone</strong> · Ann Agent" in page
    assert "record_survey-satisfaction" not in page  # answered: the form is gone


def test_the_log_reads_in_chinese_too(client, make_user, frozen_clock):
    chinese = make_user("agent", "wang@example.com", "王芳", locale="zh_CN")
    ticket = phone_only_case(chinese)
    login(client, chinese.email)
    record(client, ticket)
    page = case_page(client, ticket)
    assert "客户评价（员工电话记录）</strong> · 王芳" in page
    assert "推荐我们的可能性（0-10）</span>：<ins>4</ins>" in page and "是否会再次购买</span>：<ins>也许</ins>" in page


def test_staff_may_also_record_the_answers_of_a_customer_with_email(client, agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    login(client, agent.email)
    page = case_page(client, ticket)
    assert "The survey was e-mailed to the customer" in page and "record_survey-satisfaction" in page
    assert record(client, ticket).status_code == 302
    assert [r.status for r in survey_rows(ticket, "survey_reminder")] == ["cancelled"]  # no reminder now


def test_a_second_recording_is_refused_with_the_reason(client, agent, frozen_clock):
    ticket = phone_only_case(agent)
    login(client, agent.email)
    assert record(client, ticket).status_code == 302
    again = record(client, ticket)
    assert again.status_code == 409
    assert "The answers to this survey are already saved" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1


def test_a_recording_before_any_follow_up_is_refused(client, agent, frozen_clock):
    ticket = to_step(open_case(agent, email=None), agent, "resolve")
    login(client, agent.email)
    assert "record_survey-satisfaction" not in case_page(client, ticket)
    refused = record(client, ticket)
    assert refused.status_code == 409 and "There is no survey to answer" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0


# --- who may record ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, allowed", [("colleague", False), ("supervisor", True), ("admin", True), ("assignee", True)]
)
def test_only_staff_who_work_the_case_record_the_answers(client, agent, make_user, frozen_clock, role, allowed):
    ticket = phone_only_case(agent)
    user = agent if role == "assignee" else make_user("agent" if role == "colleague" else role)
    login(client, user.email)
    page = case_page(client, ticket)
    assert ("record_survey-satisfaction" in page) == allowed
    response = record(client, ticket)
    assert response.status_code == (302 if allowed else 409)
    saved = db.session.scalars(select(SurveyResponse)).all()
    assert [r.recorded_by_id for r in saved] == ([user.id] if allowed else [])


def test_nobody_signed_out_records_answers(client, agent, frozen_clock):
    ticket = phone_only_case(agent)
    response = record(client, ticket)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0
