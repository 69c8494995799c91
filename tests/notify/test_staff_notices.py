"""Staff notices as their readers receive them, through a real SMTP server: who gets each, in which
language, and how each reader's preferences and scope shape it."""

import re

from sqlalchemy import select

from tests.factories import open_case, propose, to_step
from ticketing.cases import services
from ticketing.extensions import db
from ticketing.notify.models import Notification
from ticketing.notify.preferences import save_preferences
from ticketing.scheduling.dispatcher import dispatch_due

CJK = re.compile(r"[\u4e00-\u9fff]")


def in_app(kind):
    return sorted(n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == kind)))


def subjects(inbox, user):
    return [m["Subject"] for m in inbox.to(user.email)]


def test_a_returned_review_tells_the_assignee_why(agent, supervisor, inbox, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Seals")
    services.return_review(ticket, supervisor, version=ticket.version, return_to="resolve", reason="No refund given")
    db.session.commit()
    dispatch_due(frozen_clock.now)
    [message] = [m for m in inbox.to(agent.email) if "returned" in m["Subject"]]
    assert "Reason: No refund given" in message.get_content()
    assert in_app("review_returned") == [agent.id]


def test_a_customer_reopening_tells_the_assignee_in_their_language(make_user, supervisor, inbox, frozen_clock):
    wang = make_user("agent", "wang@example.com", "王芳")
    wang.locale = "zh_CN"
    db.session.commit()
    ticket = to_step(open_case(wang), wang, "review")
    services.record_review(ticket, wang, version=ticket.version, summary="Replaced", lesson="Seals")
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    services.customer_reopens(ticket, version=ticket.version, reason="Leaks again")
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert in_app("customer_reopened") == [wang.id]
    [message] = [m for m in inbox.to(wang.email) if ticket.reference in m["Subject"] and "重新打开" in m["Subject"]]
    assert CJK.search(message["Subject"])


def test_compensation_waiting_reaches_only_the_supervisors_whose_limit_covers_it(
    agent, supervisor, make_user, inbox, frozen_clock
):
    admin = make_user("admin", "admin@example.com", "Ada Admin")
    big = to_step(open_case(agent), agent, "resolve")
    propose(big, agent, amount=8000)  # above a supervisor's 5,000, within an admin's 20,000
    small = to_step(open_case(agent, email="other@example.com"), agent, "resolve")
    propose(small, agent, amount=300)
    dispatch_due(frozen_clock.now)
    waiting = {
        (n.ticket_id, n.user_id)
        for n in db.session.scalars(select(Notification).where(Notification.kind == "approval_waiting"))
    }
    assert waiting == {(big.id, admin.id), (small.id, supervisor.id), (small.id, admin.id)}
    assert len([s for s in subjects(inbox, supervisor) if "waits for your approval" in s]) == 1


def test_an_email_only_reader_gets_no_in_app_notice_and_off_means_nothing(agent, supervisor, inbox, frozen_clock):
    save_preferences(agent, {"customer_accepted": "email", "customer_rejected": "off"})
    db.session.commit()
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=True)
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert in_app("customer_accepted") == []
    assert [s for s in subjects(inbox, agent) if "accepted" in s] == [
        f"The customer accepted the proposal on {ticket.reference}"
    ]
    other = to_step(open_case(agent, email="two@example.com"), agent, "resolve")
    propose(other, agent)
    services.record_customer_answer(other, None, version=other.version, accepted=False, reason="Too little")
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert in_app("customer_rejected") == [] and not [s for s in subjects(inbox, agent) if "rejected" in s]


def test_email_wanted_without_a_mail_server_falls_back_to_the_app(agent, supervisor, frozen_clock):
    save_preferences(agent, {"customer_accepted": "email"})
    db.session.commit()
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=True)
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert in_app("customer_accepted") == [agent.id]


def test_a_supervisor_following_all_cases_gets_a_copy_of_the_assignees_notices(
    agent, supervisor, make_user, inbox, frozen_clock
):
    quiet = make_user("supervisor", "quiet@example.com", "Quiet Supervisor")
    save_preferences(supervisor, {}, scope="all")
    db.session.commit()
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=False, reason="Too little")
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert in_app("customer_rejected") == sorted([agent.id, supervisor.id])
    assert quiet.id not in in_app("customer_rejected")
    assert [s for s in subjects(inbox, supervisor) if "rejected" in s]
