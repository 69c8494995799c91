"""The customer is told at every milestone, by a real SMTP server's count: case received, a
proposal waiting (what is offered, by when), our message, the remedy carried out, the follow-up call
coming, closed, reopened — each in their language, all in one conversation, each with a private link
that opens the case, and none quoting what they typed except their name."""

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from flask_babel import force_locale

from tests.factories import LISTEN, open_case, propose, to_step
from ticketing.cases import services
from ticketing.cases.models import Customer
from ticketing.cases.portal_access import ticket_for_token
from ticketing.extensions import db
from ticketing.i18n import day, when_in
from ticketing.scheduling.dispatcher import dispatch_due

CJK = re.compile(r"[\u4e00-\u9fff]")
LINK = re.compile(r"http://\S+/track/(\S+)")


def _walk_to_closure(ticket, agent, supervisor, clock, inbox):
    """The whole recovery, the dispatcher passing after each step; returns subject -> message."""
    dispatch_due(clock.now)  # case received
    to_step(ticket, agent, "resolve")
    propose(ticket, agent)
    dispatch_due(clock.now)  # proposal waiting
    services.send_message(ticket, agent, body="We have ordered your new kettle.")
    db.session.commit()
    dispatch_due(clock.now)  # our message
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=True)
    services.carry_out_resolution(ticket, agent, version=ticket.version)
    db.session.commit()
    dispatch_due(clock.now)  # remedy carried out
    clock.move(hours=45)
    dispatch_due(clock.now)  # the follow-up call is coming (4 hours before it is due)
    to_step(ticket, agent, "review")
    services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Seals")
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    dispatch_due(clock.now)  # closed (and the survey)
    services.customer_reopens(ticket, version=ticket.version, reason="It leaks again")
    db.session.commit()
    dispatch_due(clock.now)  # reopened
    return inbox.to(ticket.customer.email)


EXPECTED_EN = [
    "Your case {ref}: your private link",
    "Your case {ref}: our proposal waits for your answer",
    "Your case {ref}: a message from us",
    "Your case {ref}: we have put things right",
    "Your case {ref}: we will call you soon",
    "How did we do? Your case {ref}",
    "Your case {ref} is closed",
    "Your case {ref} is open again",
]


def test_an_english_customer_hears_of_every_milestone_once_in_one_conversation(agent, supervisor, inbox, frozen_clock):
    ticket = open_case(agent, name="Li Lei", email="li.lei@example.com")
    messages = _walk_to_closure(ticket, agent, supervisor, frozen_clock, inbox)
    ref = ticket.reference
    assert [m["Subject"] for m in messages] == [subject.format(ref=ref) for subject in EXPECTED_EN]
    thread = f"<case-{ref}@example.com>"
    assert {m["In-Reply-To"] for m in messages} == {m["References"] for m in messages} == {thread}
    assert len({m["Message-ID"] for m in messages}) == len(messages)
    for message in messages:
        text = message.get_content()
        assert text.startswith("Dear Li Lei,")
        assert "please do not share it" in text
        [token] = LINK.findall(text)
        assert ticket_for_token(token) == ticket  # every link opens the case
        # Nothing the complainant typed but their name: neither the subject nor their words.
        assert "Leaking kettle" not in text and LISTEN["customer_words"] not in text
    by_subject = {m["Subject"]: m.get_content() for m in messages}
    proposal = by_subject[f"Your case {ref}: our proposal waits for your answer"]
    assert "What we will do: Replace the kettle" in proposal
    assert f"Done by: {day(date(2026, 11, 27))}" in proposal  # written by the desk's formatter, below
    assert "What we offer you: Refund of CN¥50.00 and Apology letter" in proposal
    assert "We have ordered your new kettle." in by_subject[f"Your case {ref}: a message from us"]
    call_by = when_in(datetime(2026, 11, 26, 9, tzinfo=timezone.utc), "Asia/Shanghai")  # 17:00 at the desk
    assert f"We will call you around {call_by} to make sure" in by_subject[f"Your case {ref}: we have put things right"]
    assert f"until {day(date(2026, 12, 26))}" in by_subject[f"Your case {ref} is closed"]  # the date, then the time
    received = by_subject[f"Your case {ref}: your private link"]
    assert "We will get back to you by" in received and "We aim to propose a solution by" in received


def test_a_chinese_customer_hears_every_milestone_in_chinese(agent, supervisor, inbox, frozen_clock):
    ticket = open_case(agent, name="韩梅梅", email="han@example.com")
    db.session.get(Customer, ticket.customer_id).locale = "zh_CN"
    db.session.commit()
    messages = _walk_to_closure(ticket, agent, supervisor, frozen_clock, inbox)
    assert len(messages) == len(EXPECTED_EN)
    for message in messages:
        assert CJK.search(message["Subject"]) and ticket.reference in message["Subject"]
        assert message["Content-Language"] == "zh-CN"
        assert message.get_content().startswith("尊敬的")
        assert "Dear" not in message.get_content()
    proposal = next(m.get_content() for m in messages if "方案" in m["Subject"])
    with force_locale("zh_CN"):
        assert day(date(2026, 11, 27)) in proposal and "¥50.00" in proposal


def test_a_proposal_above_the_limit_reaches_the_customer_only_once_approved(agent, supervisor, inbox, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent, amount=800)
    dispatch_due(frozen_clock.now)
    assert not [m for m in inbox.to("li.lei@example.com") if "proposal" in m["Subject"]]
    services.approve_compensation(ticket, supervisor, version=ticket.version)
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert len([m for m in inbox.to("li.lei@example.com") if "proposal" in m["Subject"]]) == 1


def test_a_proposal_answered_before_the_dispatcher_came_by_is_not_announced(agent, inbox, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=True)
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert not [m for m in inbox.to("li.lei@example.com") if "proposal" in m["Subject"]]


def test_a_customer_without_email_is_sent_nothing_and_nothing_fails(agent, inbox, frozen_clock):
    ticket = open_case(agent, email=None)
    to_step(ticket, agent, "review")
    result = dispatch_due(frozen_clock.now)
    assert inbox.received == [] and result.failed == 0


def test_the_customers_own_message_is_not_echoed_back_to_them(agent, inbox, frozen_clock):
    ticket = open_case(agent)
    dispatch_due(frozen_clock.now)
    services.send_message(ticket, None, body="Any news?")
    db.session.commit()
    dispatch_due(frozen_clock.now + timedelta(minutes=1))
    assert [m["Subject"] for m in inbox.to("li.lei@example.com")] == [
        f"Your case {ticket.reference}: your private link"
    ]


@pytest.mark.parametrize("door", ["desk", "portal", "api"])
def test_every_door_sends_the_case_received_message_once(door, app, agent, inbox, frozen_clock):
    if door == "desk":
        open_case(agent, email="door@example.com")
    else:
        services.take_complaint(
            None,
            customer=services.find_or_create_customer("Door Person", "door@example.com", None),
            subject="Late parcel",
            description="It did not come.",
            channel="web" if door == "portal" else "email",
            assign=door == "portal",
        )
        db.session.commit()
    dispatch_due(frozen_clock.now)
    assert len(inbox.to("door@example.com")) == 1
