"""Survey reach: every follow-up, satisfied or not, asks the customer how we did; one reminder goes to
a customer who has not answered after SURVEY_REMINDER_DAYS; a customer without e-mail answers on
the phone and staff take the answers down (the record log names who did; the desk's side is in
tests/web/test_phone_survey.py). Against a real SMTP server."""

import re

import pytest
from sqlalchemy import func, select

from tests.factories import open_case, to_step, unsatisfied_follow_up
from ticketing.cases.audit import Event
from ticketing.cases.models import Customer, Reminder
from ticketing.cases.portal_access import PortalAccess
from ticketing.cases.survey import (
    SurveyResponse,
    answer_survey,
    record_phone_survey,
    survey_due,
    survey_notice_needed,
)
from ticketing.cases.workflow import WorkflowError
from ticketing.extensions import db
from ticketing.scheduling.dispatcher import dispatch_due

CJK = re.compile(r"[\u4e00-\u9fff]")
ANSWERS = dict(satisfaction=2, recommend=4, buy_again="maybe", fair_outcome=2, fair_process=3, fair_treatment=4)


@pytest.fixture
def app(app):
    app.config.update(SURVEY_REMINDER_DAYS=3, BUSINESS_HOURS=None, PUBLIC_URL="http://desk.example")
    return app


def surveys_to(inbox, address) -> list:
    return [m for m in inbox.to(address) if m["Subject"].startswith("How did we do?")]


def reminders_to(inbox, address) -> list:
    return [m for m in inbox.to(address) if m["Subject"].startswith("A reminder: how did we do")]


def survey_rows(ticket, kind) -> list[Reminder]:
    return list(db.session.scalars(select(Reminder).where(Reminder.ticket_id == ticket.id, Reminder.kind == kind)))


def link_in(message) -> str:
    return re.search(r"http://desk\.example(/track/\S+)", message.get_content()).group(1)


# --- every follow-up asks ----------------------------------------------------------------------


def test_an_unsatisfied_follow_up_emails_the_survey_and_the_portal_offers_it(agent, inbox, frozen_clock, client):
    ticket = to_step(open_case(agent), agent, "follow_up")
    unsatisfied_follow_up(ticket, agent)
    assert ticket.step == "resolve" and survey_due(ticket) is not None
    dispatch_due(frozen_clock.now)
    [survey] = surveys_to(inbox, "li.lei@example.com")
    assert survey["Subject"] == f"How did we do? Your case {ticket.reference}"
    client.get(link_in(survey))  # the customer opens the e-mailed link
    page = client.get("/track").get_data(as_text=True)
    assert "How did we do?" in page and "track/survey" in page
    answers = {name: str(value) for name, value in ANSWERS.items()}
    assert client.post("/track/survey", data=answers).status_code == 302
    response = db.session.scalars(select(SurveyResponse)).one()
    assert (response.satisfaction, response.recorded_by_id) == (2, None)
    assert "track/survey" not in client.get("/track").get_data(as_text=True)


def test_each_follow_up_gets_its_own_survey_and_a_new_one_replaces_the_old_reminder(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "follow_up")
    unsatisfied_follow_up(ticket, agent)
    [first] = survey_rows(ticket, "survey_reminder")
    frozen_clock.move(days=1)
    to_step(ticket, agent, "review")  # resolved again, followed up again: satisfied this time
    assert len(survey_rows(ticket, "satisfaction_survey")) == 2
    db.session.refresh(first)
    assert first.status == "cancelled"
    assert [r.status for r in survey_rows(ticket, "survey_reminder")] == ["cancelled", "pending"]
    assert not survey_notice_needed(first)


# --- one reminder to non-responders -------------------------------------------------------------


def test_one_reminder_goes_after_the_reminder_days_when_unanswered(agent, inbox, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    [reminder] = survey_rows(ticket, "survey_reminder")
    assert (reminder.audience, reminder.due_at) == ("customer", frozen_clock.now.replace(day=27))
    dispatch_due(frozen_clock.now)
    assert len(surveys_to(inbox, "li.lei@example.com")) == 1 and reminders_to(inbox, "li.lei@example.com") == []
    frozen_clock.move(days=3, minutes=-1)
    dispatch_due(frozen_clock.now)
    assert reminders_to(inbox, "li.lei@example.com") == []  # not yet
    frozen_clock.move(minutes=1)
    dispatch_due(frozen_clock.now)
    [message] = reminders_to(inbox, "li.lei@example.com")
    assert message["Subject"] == f"A reminder: how did we do on your case {ticket.reference}?"
    text = message.get_content()
    assert "Dear Li Lei" in text and "the only reminder" in text and link_in(message)
    frozen_clock.move(days=30)
    dispatch_due(frozen_clock.now)
    assert len(reminders_to(inbox, "li.lei@example.com")) == 1  # once only


def test_a_chinese_customer_gets_the_reminder_in_chinese(agent, inbox, frozen_clock):
    ticket = open_case(agent, name="Han Meimei", email="han@example.com")
    db.session.get(Customer, ticket.customer_id).locale = "zh_CN"
    to_step(ticket, agent, "review")
    frozen_clock.move(days=3)
    dispatch_due(frozen_clock.now)
    [reminder] = survey_rows(ticket, "survey_reminder")
    [message] = [m for m in inbox.to("han@example.com") if m["Message-ID"].startswith(f"<reminder-{reminder.id}-")]
    assert CJK.search(message["Subject"]) and ticket.reference in message["Subject"]
    assert CJK.search(message.get_content()) and "/track/" in message.get_content()


def test_no_reminder_goes_once_the_customer_has_answered(agent, inbox, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    [reminder] = survey_rows(ticket, "survey_reminder")
    assert survey_notice_needed(reminder)
    frozen_clock.move(days=1)
    answer_survey(ticket, **ANSWERS)
    db.session.commit()
    db.session.refresh(reminder)
    assert reminder.status == "cancelled" and not survey_notice_needed(reminder)
    frozen_clock.move(days=5)
    dispatch_due(frozen_clock.now)
    assert reminders_to(inbox, "li.lei@example.com") == []


def test_a_reminder_already_in_hand_is_not_needed_after_an_answer(agent, frozen_clock):
    """The dispatcher asks survey_notice_needed just before sending: an answer given between its claim
    and its sending (no cancel can reach a claimed row) stops the reminder there."""
    ticket = to_step(open_case(agent), agent, "review")
    [reminder] = survey_rows(ticket, "survey_reminder")
    reminder.status = "sending"  # claimed by a dispatcher
    db.session.commit()
    answer_survey(ticket, **ANSWERS)
    db.session.commit()
    db.session.refresh(reminder)
    assert reminder.status == "sending" and not survey_notice_needed(reminder)


def test_no_survey_notice_goes_once_staff_revoked_every_private_link(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    [survey], [reminder] = survey_rows(ticket, "satisfaction_survey"), survey_rows(ticket, "survey_reminder")
    assert survey_notice_needed(survey) and survey_notice_needed(reminder)  # no link given yet
    db.session.add(PortalAccess(ticket_id=ticket.id, token_hash="a" * 64, revoked_at=frozen_clock.now))
    db.session.commit()
    assert not survey_notice_needed(survey) and not survey_notice_needed(reminder)


def test_no_reminder_is_made_when_the_reminder_days_are_zero(app, agent, frozen_clock):
    app.config["SURVEY_REMINDER_DAYS"] = 0
    ticket = to_step(open_case(agent), agent, "review")
    assert len(survey_rows(ticket, "satisfaction_survey")) == 1 and survey_rows(ticket, "survey_reminder") == []


# --- phone-only customers -------------------------------------------------------------------------


def phone_only_case(agent):
    ticket = open_case(agent, name="Wang Fang", email=None)
    assert ticket.customer.email is None
    return to_step(ticket, agent, "review")


def test_a_phone_only_customer_gets_no_survey_email_and_staff_take_the_answers_down(agent, frozen_clock):
    ticket = phone_only_case(agent)
    assert survey_rows(ticket, "satisfaction_survey") == [] and survey_rows(ticket, "survey_reminder") == []
    assert survey_due(ticket) is not None
    record_phone_survey(ticket, agent, version=ticket.version, comment="On the phone", **ANSWERS)
    db.session.commit()
    response = db.session.scalars(select(SurveyResponse)).one()
    assert (response.satisfaction, response.buy_again, response.recorded_by_id) == (2, "maybe", agent.id)
    event = db.session.scalars(select(Event).where(Event.action == "record_survey")).one()
    assert (event.actor_id, event.actor_name, event.changes["satisfaction"]) == (agent.id, "Ann Agent", [None, 2])
    assert survey_due(ticket) is None


def test_only_staff_who_work_the_case_take_the_answers_down(agent, make_user, frozen_clock):
    ticket = phone_only_case(agent)
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    with pytest.raises(WorkflowError, match="assigned to someone else"):
        record_phone_survey(ticket, colleague, version=ticket.version, **ANSWERS)
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0


def test_insight_counts_the_answers_staff_took_down(agent, frozen_clock):
    from zoneinfo import ZoneInfo

    from ticketing.insight import voice
    from ticketing.insight.filters import Filters

    by_phone, online = phone_only_case(agent), to_step(open_case(agent, name="Li Lei"), agent, "review")
    record_phone_survey(by_phone, agent, version=by_phone.version, **ANSWERS)
    answer_survey(online, **{**ANSWERS, "satisfaction": 4})
    db.session.commit()
    day = frozen_clock.now.date()
    result = voice.satisfaction(Filters(day, day, ZoneInfo("UTC"), frozen_clock.now))
    assert result.headline["answers"].value == 2 and result.headline["taken_by_staff"].value == 1
