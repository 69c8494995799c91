"""E-mail against a real SMTP server on 127.0.0.1 (aiosmtpd, started per test): the expected
messages arrive once, in the reader's language, with a Message-ID that makes a repeat recognisable.

The Chinese texts come from the compiled catalog: run `make test` (or `pybabel compile -d
ticketing/translations`) first."""

import re

import pytest
from sqlalchemy import select

from tests.factories import open_case, to_step
from tests.scheduling.helpers import T0, only_pending, reminders_of
from ticketing.cases.models import Customer
from ticketing.cases.reminders import create_daily_digests
from ticketing.extensions import db
from ticketing.notify import email
from ticketing.notify.models import Notification
from ticketing.scheduling.dispatcher import dispatch_due
from ticketing.scheduling.models import Delivery

CJK = re.compile(r"[\u4e00-\u9fff]")


def english_subject(ticket) -> str:
    return f"First response due soon: {ticket.reference}"


# --- staff reminders ---------------------------------------------------------------------


def test_an_english_reader_gets_one_english_email_with_a_recognisable_message_id(agent, inbox, frozen_clock):
    ticket = open_case(agent, email=None)
    reminder = only_pending(ticket, "response_at_risk")
    frozen_clock.move(hours=6)
    dispatch_due(frozen_clock.now)
    [message] = inbox.to(agent.email)
    assert message["Subject"] == english_subject(ticket)
    assert message["To"].addresses[0].addr_spec == agent.email
    assert message["To"].addresses[0].display_name == "Ann Agent"
    assert message["From"] == "service-desk@example.com"
    assert message["Message-ID"] == f"<reminder-{reminder.id}-user-{agent.id}@example.com>"
    assert message["Content-Language"] == "en"
    assert "Leaking kettle" in message.get_content()
    dispatch_due(frozen_clock.now)  # a second pass sends nothing more
    assert len(inbox.received) == 1


def test_a_chinese_reader_gets_the_email_in_chinese(make_user, inbox, frozen_clock):
    reader = make_user("agent", "wang@example.com", "王芳", locale="zh_CN")
    ticket = open_case(reader)
    reminder = only_pending(ticket, "response_at_risk")
    frozen_clock.move(hours=6)
    dispatch_due(frozen_clock.now)
    [message] = inbox.to(reader.email)
    subject = message["Subject"]
    assert ticket.reference in subject and CJK.search(subject), subject
    assert subject != english_subject(ticket)
    assert message["Content-Language"] == "zh-CN"
    assert message["To"].addresses[0].display_name == "王芳"
    assert message["Message-ID"] == f"<reminder-{reminder.id}-user-{reader.id}@example.com>"


def test_each_supervisor_gets_the_breach_in_their_own_language(agent, supervisor, make_user, inbox, frozen_clock):
    chinese = make_user("supervisor", "zhang@example.com", "张伟", locale="zh_CN")
    ticket = open_case(agent)
    breach = only_pending(ticket, "response_breached")
    dispatch_due(breach.due_at)
    [english] = inbox.to(supervisor.email)
    [translated] = inbox.to(chinese.email)
    assert english["Subject"] == f"First-response deadline missed: {ticket.reference}"
    assert CJK.search(translated["Subject"]) and ticket.reference in translated["Subject"]
    assert english["Message-ID"] == f"<reminder-{breach.id}-user-{supervisor.id}@example.com>"
    assert translated["Message-ID"] == f"<reminder-{breach.id}-user-{chinese.id}@example.com>"
    assert inbox.to(agent.email) and all(m["Subject"] == english_subject(ticket) for m in inbox.to(agent.email))


# --- the customer's survey ----------------------------------------------------------------


def test_the_satisfaction_survey_goes_to_the_customer_only(agent, inbox, frozen_clock):
    ticket = to_step(open_case(agent, name="Li Lei", email="li.lei@example.com"), agent, "review")
    [survey] = reminders_of(ticket, "satisfaction_survey")
    dispatch_due(frozen_clock.now)
    [message] = [m for m in inbox.to("li.lei@example.com") if m["Subject"].startswith("How did we do?")]
    assert message["Subject"] == f"How did we do? Your case {ticket.reference}"
    assert message["Message-ID"] == f"<reminder-{survey.id}-customer@example.com>"
    assert "Dear Li Lei" in message.get_content()
    assert {recipients[0] for recipients, _ in inbox.received} == {"li.lei@example.com"}
    assert db.session.scalar(select(Notification.id).where(Notification.reminder_id == survey.id)) is None
    assert survey.status == "sent"


def test_a_chinese_customer_gets_the_survey_in_chinese(agent, inbox, frozen_clock):
    ticket = open_case(agent, name="Han Meimei", email="han@example.com")
    db.session.get(Customer, ticket.customer_id).locale = "zh_CN"
    to_step(ticket, agent, "review")
    dispatch_due(frozen_clock.now)
    [survey] = reminders_of(ticket, "satisfaction_survey")
    [message] = [m for m in inbox.to("han@example.com") if m["Message-ID"].startswith(f"<reminder-{survey.id}-")]
    assert CJK.search(message["Subject"]) and ticket.reference in message["Subject"]
    assert message["Content-Language"] == "zh-CN"


# --- refusing what must not be sent ------------------------------------------------------------


@pytest.mark.parametrize("field", ["to", "subject"])
@pytest.mark.parametrize("injected", ["x\r\nBcc: victim@example.com", "x\nBcc: victim@example.com", "x\rBcc: y"])
def test_header_values_with_line_breaks_are_refused(app, field, injected):
    values = dict(to="li.lei@example.com", to_name="Li Lei", subject="Hello", body="Body", token="t-1")
    values[field] = injected
    with pytest.raises(ValueError):
        email.build_message(**values)


@pytest.mark.parametrize("injected", ["x\r\nBcc: victim@example.com", "x\nBcc: victim@example.com", "x\rBcc: y"])
def test_a_name_with_line_breaks_is_only_a_display_name(app, injected):
    """Names are refused with line breaks at every entry; one stored before that still cannot add a header."""
    message = email.build_message(to="li.lei@example.com", to_name=injected, subject="Hello", body="Body", token="t")
    assert message["Bcc"] is None and [a.addr_spec for a in message["To"].addresses] == ["li.lei@example.com"]


def test_a_message_that_cannot_be_built_fails_alone_and_the_others_go_out(app, agent, inbox, frozen_clock):
    ticket = to_step(open_case(agent, email="li.lei@example.com\r\nbcc: victim@example.com"), agent, "review")
    create_daily_digests(frozen_clock.now)
    db.session.commit()
    result = dispatch_due(frozen_clock.now)
    assert result.mailed == 1 and result.failed == 3  # case received, remedy carried out, survey
    assert [m["Subject"] for m in inbox.to(agent.email)] == ["Your cases today"]
    [survey] = reminders_of(ticket, "satisfaction_survey")
    [delivery] = db.session.scalars(select(Delivery).where(Delivery.reminder_id == survey.id))
    assert (delivery.status, delivery.attempts) == ("failed", 1)  # no retry can mend an address
    assert "line break" in delivery.last_error
    assert inbox.to("li.lei@example.com") == [] and inbox.to("victim@example.com") == []


def test_no_email_is_sent_to_anyone_when_smtp_is_not_configured(app, agent, supervisor, inbox, frozen_clock):
    app.config["SMTP_HOST"] = None
    open_case(agent)
    assert dispatch_due(T0.replace(hour=17)).sent == 2  # in-app only
    assert inbox.received == []


def test_one_connection_carries_every_message_of_a_pass(app, agent, supervisor, make_user, frozen_clock):
    """The SMTP server sees one session (one EHLO) for all the digests of one pass."""
    from aiosmtpd.controller import Controller

    from tests.mail import Inbox, free_port

    class CountingInbox(Inbox):
        sessions = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            self.sessions += 1
            session.host_name = hostname
            return responses

    inbox = CountingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
        for n in range(3):
            make_user("agent", f"reader{n}@example.com", f"Reader {n}")
        create_daily_digests(frozen_clock.now)
        db.session.commit()
        assert dispatch_due(frozen_clock.now).mailed == 5
    finally:
        controller.stop()
    assert len(inbox.received) == 5 and inbox.sessions == 1
