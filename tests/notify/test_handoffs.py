"""Hand-offs are told at once: the person a case now waits for gets a notice (in-app, and by e-mail
when it is configured) — never the person who acted."""

from sqlalchemy import select

from tests.factories import open_case, propose, to_step
from ticketing.cases import services
from ticketing.cases.models import Reminder
from ticketing.extensions import db
from ticketing.notify.models import Notification
from ticketing.scheduling.dispatcher import dispatch_due


def notices(ticket):
    return [
        (r.kind, r.audience, r.user_id)
        for r in db.session.scalars(
            select(Reminder)
            .where(
                Reminder.ticket_id == ticket.id,
                Reminder.kind.in_(
                    [
                        "assigned",
                        "approval_waiting",
                        "approval_granted",
                        "approval_refused",
                        "customer_accepted",
                        "customer_rejected",
                    ]
                ),
            )
            .order_by(Reminder.id)
        )
    ]


def test_assigning_tells_the_new_assignee_not_the_one_who_took_it(agent, supervisor, make_user):
    other = make_user("agent", "other@example.com", "Otto Other")
    ticket = open_case(agent)  # taking a complaint makes it the taker's: nobody else to tell
    assert ticket.assignee_id == agent.id and notices(ticket) == []
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=other)
    db.session.commit()
    assert notices(ticket) == [("assigned", "assignee", other.id)]
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=other)  # no change: no news
    db.session.commit()
    assert notices(ticket) == [("assigned", "assignee", other.id)]


def test_compensation_above_the_limit_tells_the_supervisors_and_the_decision_tells_the_proposer(
    agent, supervisor, frozen_clock
):
    ticket = to_step(open_case(agent), agent, "resolve")
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=agent)
    db.session.commit()
    propose(ticket, agent, amount=800)  # above the agent's 200
    db.session.commit()
    assert ("approval_waiting", "supervisors", None) in notices(ticket)
    services.refuse_compensation(ticket, supervisor, version=ticket.version, reason="Too much")
    db.session.commit()
    assert notices(ticket)[-1] == ("approval_refused", "assignee", agent.id)
    dispatch_due(frozen_clock.now)
    kinds = {n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == agent.id))}
    assert "approval_refused" in kinds
    bells = {n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == supervisor.id))}
    assert "approval_waiting" in bells


def test_a_proposal_within_the_limit_waits_for_nobody_on_staff(agent, supervisor):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent, amount=50)
    db.session.commit()
    assert "approval_waiting" not in [kind for kind, _a, _u in notices(ticket)]


def test_the_customers_answer_tells_the_assignee(agent, supervisor):
    ticket = to_step(open_case(agent), agent, "resolve")
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=agent)
    propose(ticket, agent, amount=50)
    db.session.commit()
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=False, reason="Too little")
    db.session.commit()
    assert notices(ticket)[-1] == ("customer_rejected", "assignee", agent.id)
