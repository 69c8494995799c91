"""A missed resolution deadline escalates the case by itself when the desk says so: one priority level
up, as the scheduler, its holder told — once per case, however often the deadline is missed."""

import pytest
from sqlalchemy import select

from tests.factories import open_case
from tests.scheduling.helpers import notifications
from ticketing.cases import services, settings
from ticketing.cases.audit import Event
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.scheduling.dispatcher import dispatch_due


def escalations(ticket) -> list[Event]:
    query = select(Event).where(Event.ticket_id == ticket.id, Event.action == "auto_escalate")
    return list(db.session.scalars(query))


@pytest.fixture
def auto_escalate(app, supervisor):
    """The desk turns automatic escalation on, on its settings page."""
    settings.save(supervisor, {"auto_escalate_on_breach": True}, utcnow())
    db.session.commit()


def test_a_missed_resolution_deadline_escalates_the_case_once(app, auto_escalate, agent, supervisor, frozen_clock):
    ticket = open_case(agent)  # normal priority: 72 hours to a proposal
    frozen_clock.move(hours=73)
    dispatch_due(frozen_clock.now)
    db.session.expire_all()
    [event] = escalations(ticket)
    assert (event.actor_id, event.actor_name, event.changes["priority"]) == (None, "scheduler", ["normal", "high"])
    assert ticket.priority == "high"
    assert [n.user_id for n in notifications(kind="escalated")] == [agent.id]  # the holder hears at once
    assert notifications(supervisor, kind="resolution_breached")  # the supervisors, of the breach itself

    # Lowered again by hand, the case misses its new deadline too: no second automatic escalation.
    services.triage_case(ticket, supervisor, version=ticket.version, priority="low")
    db.session.commit()
    frozen_clock.move(hours=48)  # low: 120 hours from the start, passed now
    dispatch_due(frozen_clock.now)
    db.session.expire_all()
    assert len(escalations(ticket)) == 1 and ticket.priority == "low"
    assert len(notifications(supervisor, kind="resolution_breached")) == 2


def test_without_the_setting_a_missed_deadline_is_only_told(app, agent, supervisor, frozen_clock):
    assert settings.desk().auto_escalate_on_breach is False  # off unless the desk turns it on
    ticket = open_case(agent)
    frozen_clock.move(hours=73)
    dispatch_due(frozen_clock.now)
    db.session.expire_all()
    assert escalations(ticket) == [] and ticket.priority == "normal"
    assert notifications(supervisor, kind="resolution_breached") and not notifications(kind="escalated")
