"""Re-triage and escalation through the services: logged old → new, the running deadlines timed again
by the new priority from each clock's start, refused when nothing changes or for someone not on the case."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import open_case, propose, to_step
from tests.unit.helpers import assert_refused_and_unchanged, events_of, last_event
from ticketing.cases import services
from ticketing.cases.deadlines import policy_hours
from ticketing.cases.models import Reminder
from ticketing.cases.workflow import WorkflowError
from ticketing.extensions import db

OTHERS_CASE = "This case is assigned to someone else; ask a supervisor to reassign it."


def hours(priority) -> tuple[timedelta, timedelta]:
    response, resolution = policy_hours(priority, None)
    return timedelta(hours=response), timedelta(hours=resolution)


@pytest.fixture(autouse=True)
def around_the_clock(app):
    """Deadlines run 24×7 here, so the expected times are plain sums."""
    app.config.update(BUSINESS_HOURS=None, CATEGORY_DEADLINE_HOURS={})


def test_triage_logs_old_and_new_values_and_times_the_deadlines_from_the_start(agent, frozen_clock):
    ticket = open_case(agent)
    start = ticket.created_at
    frozen_clock.move(hours=2)
    services.triage_case(
        ticket, agent, version=ticket.version, priority="urgent", category="billing", product=" Kettle K2 "
    )
    db.session.commit()
    urgent_response, urgent_resolution = hours("urgent")
    assert (ticket.priority, ticket.priority_rank, ticket.category, ticket.product) == (
        "urgent",
        0,
        "billing",
        "Kettle K2",
    )
    assert (ticket.response_due_at, ticket.resolution_due_at) == (start + urgent_response, start + urgent_resolution)
    event = last_event(ticket)
    assert (event.action, event.actor_name) == ("triage", "Ann Agent")
    assert event.changes["priority"] == ["normal", "urgent"]
    assert event.changes["category"] == [None, "billing"]
    assert event.changes["product"] == [None, "Kettle K2"]
    normal_response, _ = hours("normal")
    assert event.changes["response_due_at"] == [
        (start + normal_response).isoformat(),
        (start + urgent_response).isoformat(),
    ]


def test_the_reminders_follow_the_new_deadlines(agent, frozen_clock):
    ticket = open_case(agent)
    services.triage_case(ticket, agent, version=ticket.version, priority="urgent")
    db.session.commit()
    breach = db.session.scalars(
        select(Reminder).where(Reminder.ticket_id == ticket.id, Reminder.kind == "response_breached")
    ).all()
    assert {(r.due_at, r.status) for r in breach} == {
        (ticket.created_at + hours("normal")[0], "cancelled"),
        (ticket.response_due_at, "pending"),
    }


def test_a_subject_correction_leaves_the_deadlines_alone(agent):
    ticket = open_case(agent)
    due = (ticket.response_due_at, ticket.resolution_due_at)
    services.triage_case(ticket, agent, version=ticket.version, subject="Kettle K1 leaks at the seal")
    db.session.commit()
    assert ticket.subject == "Kettle K1 leaks at the seal"
    assert (ticket.response_due_at, ticket.resolution_due_at) == due
    assert set(last_event(ticket).changes) == {"subject"}


def test_the_response_clock_counts_from_the_customers_last_message(agent, frozen_clock):
    ticket = open_case(agent)
    frozen_clock.move(hours=3)
    services.send_message(ticket, None, body="Any news?")  # the customer wrote again: the clock restarted
    db.session.commit()
    written = frozen_clock.now
    frozen_clock.move(minutes=10)
    services.triage_case(ticket, agent, version=ticket.version, priority="urgent")
    db.session.commit()
    assert ticket.response_due_at == written + hours("urgent")[0]
    assert ticket.resolution_due_at == ticket.created_at + hours("urgent")[1]


def test_time_the_customer_took_over_a_rejected_proposal_stays_credited(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent, amount=Decimal(20))  # the clock stands still while the customer considers it
    frozen_clock.move(hours=5)
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=False, reason="Not enough")
    db.session.commit()
    assert ticket.resolution_due_at == ticket.created_at + hours("normal")[1] + timedelta(hours=5)
    services.triage_case(ticket, agent, version=ticket.version, priority="high")
    db.session.commit()
    assert ticket.resolution_due_at == ticket.created_at + hours("high")[1] + timedelta(hours=5)


def test_a_deadline_already_met_or_offered_does_not_move(agent):
    ticket = to_step(open_case(agent), agent, "resolve")  # apologised: the first response was given
    propose(ticket, agent, amount=Decimal(20))  # and the proposal has reached the customer
    db.session.commit()
    due = (ticket.response_due_at, ticket.resolution_due_at)
    services.triage_case(ticket, agent, version=ticket.version, priority="urgent")
    db.session.commit()
    assert (ticket.response_due_at, ticket.resolution_due_at) == due


def test_a_missed_deadline_keeps_its_time_unless_the_new_one_is_still_ahead(agent, frozen_clock):
    ticket = open_case(agent)
    missed = ticket.resolution_due_at
    frozen_clock.move(hours=80)  # normal: 72 h to a proposal, missed 8 hours ago
    services.triage_case(ticket, agent, version=ticket.version, priority="urgent")
    db.session.commit()
    assert ticket.resolution_due_at == missed  # still missed: its breach was told once, not again
    services.triage_case(ticket, agent, version=ticket.version, priority="low")
    db.session.commit()
    assert ticket.resolution_due_at == ticket.created_at + hours("low")[1]  # ahead again


def test_a_triage_that_changes_nothing_is_refused(agent):
    ticket = open_case(agent)
    error = assert_refused_and_unchanged(
        ticket,
        lambda: services.triage_case(
            ticket, agent, version=ticket.version, priority="normal", subject=" Leaking kettle ", category=""
        ),
        WorkflowError,
        "Nothing would change: the case already has these values.",
    )
    assert error.field == "category"


@pytest.mark.parametrize(
    "fields,field,reason",
    [
        ({"subject": "Two\nlines"}, "subject", "The subject must fit on one line of at most 200 characters."),
        ({"subject": "x" * 201}, "subject", "The subject must fit on one line of at most 200 characters."),
        ({"subject": "   "}, "subject", "Give the case a subject."),
        ({"category": "weather"}, "category", "Choose a category from the list."),
        ({"priority": "whenever"}, "priority", "Choose a priority from the list."),
        ({"product": "Kettle\x00"}, "product", "The product must fit on one line of at most 120 characters."),
    ],
)
def test_a_triage_with_an_unacceptable_value_is_refused_next_to_it(agent, fields, field, reason):
    ticket = open_case(agent)
    error = assert_refused_and_unchanged(
        ticket, lambda: services.triage_case(ticket, agent, version=ticket.version, **fields), WorkflowError, reason
    )
    assert error.field == field


def test_an_agent_not_on_the_case_cannot_triage_it(agent, make_user):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.triage_case(ticket, colleague, version=ticket.version, priority="urgent"),
        WorkflowError,
        OTHERS_CASE,
    )


def test_a_stale_triage_changes_nothing(agent):
    ticket = open_case(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.triage_case(ticket, agent, version=ticket.version - 1, priority="urgent"),
        services.StaleCase,
    )


def test_an_escalation_to_a_supervisor_hands_the_case_over_and_tells_them(agent, supervisor, frozen_clock):
    ticket = open_case(agent)
    services.escalate_case(
        ticket, agent, version=ticket.version, reason="Threatens to go to the press", assignee=supervisor
    )
    db.session.commit()
    assert ticket.assignee_id == supervisor.id
    notice = db.session.scalars(select(Reminder).where(Reminder.kind == "escalated")).one()
    assert (notice.audience, notice.user_id, notice.due_at) == ("assignee", supervisor.id, frozen_clock.now)
    assert notice.details == {"reason": "Threatens to go to the press", "by": "Ann Agent", "automatic": False}


def test_an_escalation_raising_the_priority_times_the_deadlines_and_tells_the_supervisors(agent, supervisor):
    ticket = open_case(agent)
    services.escalate_case(ticket, agent, version=ticket.version, reason="Baby formula spoiled", priority="urgent")
    db.session.commit()
    assert ticket.response_due_at == ticket.created_at + hours("urgent")[0]
    assert last_event(ticket).changes["priority"] == ["normal", "urgent"]
    notice = db.session.scalars(select(Reminder).where(Reminder.kind == "escalated")).one()
    # the holder escalated their own case: the supervisors are the ones to hear of it
    assert (notice.audience, notice.user_id, notice.details["priority"]) == ("supervisors", None, "urgent")


def test_a_supervisor_raising_an_agents_case_tells_the_agent(agent, supervisor):
    ticket = open_case(agent)
    services.escalate_case(ticket, supervisor, version=ticket.version, reason="VIP customer", priority="high")
    db.session.commit()
    notice = db.session.scalars(select(Reminder).where(Reminder.kind == "escalated")).one()
    assert (notice.audience, notice.user_id) == ("assignee", agent.id)


def test_an_escalation_needs_a_reason_and_something_to_escalate(agent, supervisor):
    ticket = open_case(agent)
    for data, message in [
        ({"reason": " ", "priority": "high"}, "Please give a reason."),
        ({"reason": "Angry"}, "Raise the priority, hand the case to someone, or both."),
        ({"reason": "Angry", "priority": "low"}, "An escalation raises the priority: choose one above “Normal”."),
        (
            {"reason": "Angry", "assignee": agent},
            "The case is already theirs: choose someone else, or only raise the priority.",
        ),
    ]:
        assert_refused_and_unchanged(
            ticket,
            lambda data=data: services.escalate_case(ticket, agent, version=ticket.version, **data),
            WorkflowError,
            message,
        )
    assert [e.action for e in events_of(ticket)] == ["create", "listen"]


def test_an_agent_not_on_the_case_cannot_escalate_it(agent, supervisor, make_user):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.escalate_case(
            ticket, colleague, version=ticket.version, reason="Mine now", assignee=colleague
        ),
        WorkflowError,
        OTHERS_CASE,
    )


def test_automatic_escalation_goes_one_level_up_once(agent, frozen_clock):
    ticket = open_case(agent, priority="low")
    event = services.escalate_overdue(ticket, frozen_clock.now)
    db.session.commit()
    assert (ticket.priority, event.action, event.actor_id, event.actor_name) == (
        "normal",
        "auto_escalate",
        None,
        "scheduler",
    )
    assert services.escalate_overdue(ticket, frozen_clock.now) is None  # once per case
    db.session.commit()
    assert ticket.priority == "normal" and [e.action for e in events_of(ticket)].count("auto_escalate") == 1


def test_an_urgent_case_escalated_automatically_stays_urgent_and_its_holder_is_told(agent, frozen_clock):
    ticket = open_case(agent, priority="urgent")
    event = services.escalate_overdue(ticket, frozen_clock.now)
    db.session.commit()
    assert ticket.priority == "urgent" and event.action == "auto_escalate" and "priority" not in event.changes
    notice = db.session.scalars(select(Reminder).where(Reminder.kind == "escalated")).one()
    assert (notice.user_id, notice.details["automatic"]) == (agent.id, True)
