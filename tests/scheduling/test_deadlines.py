"""Deadline policy: working time, the pause while the customer considers a proposal, the restart
when the customer writes again, and one overdue rule in SQL and in Python."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import open_case, propose, to_step
from tests.scheduling.helpers import T0
from ticketing.cases import services
from ticketing.cases.calendar import Calendar
from ticketing.cases.deadlines import case_deadlines, is_overdue, overdue_condition, policy_hours
from ticketing.cases.models import Ticket
from ticketing.extensions import db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def office(hours="09:00-18:00", days=(0, 1, 2, 3, 4), holidays=()) -> Calendar:
    return Calendar.from_config(
        {
            "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
            "BUSINESS_HOURS": hours,
            "BUSINESS_DAYS": list(days),
            "HOLIDAYS": list(holidays),
        }
    )


# --- the calendar -------------------------------------------------------------------


def test_without_business_hours_deadlines_count_every_hour():
    calendar = Calendar.from_config({"BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai", "BUSINESS_HOURS": None})
    assert calendar.add_hours(T0, 30) == T0 + timedelta(hours=30)


@pytest.mark.parametrize(
    "start, hours, due, case",
    [
        # T0 is Tuesday 17:00 in Shanghai (UTC+8): one hour today, seven tomorrow.
        (utc(2026, 11, 24, 9), 8, utc(2026, 11, 25, 8), "carried over to the next morning"),
        (utc(2026, 11, 23, 23), 2, utc(2026, 11, 24, 3), "started before opening: counts from 09:00"),
        (utc(2026, 11, 24, 12), 1, utc(2026, 11, 25, 2), "started after closing: counts from tomorrow 09:00"),
        (utc(2026, 11, 27, 9), 2, utc(2026, 11, 30, 2), "Friday 17:00 plus two hours is Monday 10:00"),
        (utc(2026, 11, 24, 9), 1, utc(2026, 11, 24, 10), "ends exactly at closing time"),
    ],
)
def test_business_hours_count_only_working_time(start, hours, due, case):
    assert office().add_hours(start, hours) == due, case


def test_a_holiday_is_not_a_working_day():
    assert office(holidays=["2026-11-25"]).add_hours(T0, 8) == utc(2026, 11, 26, 8)


def test_business_hours_keep_their_minutes():
    # 08:00 in Shanghai; the office opens at 09:30, so one hour later is 10:30.
    assert office("09:30-18:00").add_hours(utc(2026, 11, 24, 0), 1) == utc(2026, 11, 24, 2, 30)
    # 17:00, closing at 17:30: half an hour today, half an hour from 08:00 tomorrow.
    assert office("08:00-17:30").add_hours(T0, 1) == utc(2026, 11, 25, 0, 30)


def test_a_calendar_without_working_days_refuses_instead_of_looping():
    with pytest.raises(ValueError):
        office(days=()).add_hours(T0, 1)


# --- deadlines of a new case ----------------------------------------------------------


def test_a_new_case_is_due_by_the_hours_of_its_priority(agent, frozen_clock):
    ticket = open_case(agent, priority="urgent")
    assert (ticket.response_due_at, ticket.resolution_due_at) == (T0 + timedelta(hours=1), T0 + timedelta(hours=24))
    ticket = open_case(agent, priority="normal")
    assert (ticket.response_due_at, ticket.resolution_due_at) == (T0 + timedelta(hours=8), T0 + timedelta(hours=72))


def test_business_hours_shift_the_deadlines_of_a_new_case(agent, frozen_clock, business_hours):
    ticket = open_case(agent)
    # Tuesday 17:00 + 8 working hours = Wednesday 16:00 local; + 72 = Friday 4 December 17:00 local.
    assert ticket.response_due_at == utc(2026, 11, 25, 8)
    assert ticket.resolution_due_at == utc(2026, 12, 4, 9)


def test_a_category_can_have_its_own_deadline_hours(app, agent, frozen_clock):
    app.config["CATEGORY_DEADLINE_HOURS"] = {"billing": (2, 10)}
    assert policy_hours("normal", "billing") == (2, 10)
    assert policy_hours("normal", "product") == (8, 72)
    customer = services.find_or_create_customer("Han Meimei", "han@example.com", None)
    ticket = services.take_complaint(
        agent, customer=customer, subject="Charged twice", description="Twice.", channel="phone", category="billing"
    )
    db.session.commit()
    assert (ticket.response_due_at, ticket.resolution_due_at) == (T0 + timedelta(hours=2), T0 + timedelta(hours=10))


# --- the response clock -------------------------------------------------------------------


def test_the_first_staff_message_is_the_first_response(agent, frozen_clock):
    ticket = open_case(agent)
    frozen_clock.move(hours=2)
    services.send_message(ticket, agent, body="We are looking into it.", version=ticket.version)
    db.session.commit()
    assert ticket.responded_at == T0 + timedelta(hours=2)
    assert not is_overdue(ticket, T0 + timedelta(hours=9))


def test_a_customer_message_restarts_the_response_clock(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "analyse")
    assert ticket.responded_at == T0
    frozen_clock.move(hours=20)
    services.send_message(ticket, None, body="Any news?")
    db.session.commit()
    assert ticket.responded_at is None
    assert ticket.response_due_at == T0 + timedelta(hours=28)
    assert is_overdue(ticket, T0 + timedelta(hours=29))


def test_a_customer_message_on_saturday_is_due_on_monday(agent, frozen_clock, business_hours):
    ticket = to_step(open_case(agent), agent, "analyse")
    frozen_clock.now = utc(2026, 11, 28, 4)  # Saturday 12:00 in Shanghai
    services.send_message(ticket, None, body="Any news?")
    db.session.commit()
    assert ticket.response_due_at == utc(2026, 11, 30, 9)  # Monday 17:00 local: eight working hours


# --- the resolution clock -----------------------------------------------------------------


def test_the_resolution_clock_stands_still_while_the_customer_considers_a_proposal(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    frozen_clock.move(hours=10)
    propose(ticket, agent)
    assert ticket.clock_paused_at == T0 + timedelta(hours=10)
    later = T0 + timedelta(hours=80)  # past the original resolution deadline
    resolution = next(item for item in case_deadlines(ticket) if item.name == "resolution")
    assert resolution.paused and not resolution.overdue(later)
    assert not is_overdue(ticket, later)


def test_a_rejection_extends_the_resolution_deadline_by_the_waiting_time(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    frozen_clock.move(hours=10)
    propose(ticket, agent)
    frozen_clock.move(hours=30)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=False, reason="Too little")
    db.session.commit()
    assert ticket.resolution_due_at == T0 + timedelta(hours=72 + 30)
    assert ticket.clock_paused_at is None
    assert not is_overdue(ticket, T0 + timedelta(hours=101))
    assert is_overdue(ticket, T0 + timedelta(hours=103))


def test_an_acceptance_meets_the_resolution_deadline_without_moving_it(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    frozen_clock.move(hours=30)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=True)
    db.session.commit()
    assert ticket.resolution_due_at == T0 + timedelta(hours=72)
    assert ticket.clock_paused_at is None
    resolution = next(item for item in case_deadlines(ticket) if item.name == "resolution")
    assert resolution.met and not is_overdue(ticket, T0 + timedelta(hours=100))


def test_waiting_for_a_supervisor_approval_does_not_pause_the_clock(agent, supervisor, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent, amount=Decimal("300"))  # above the agent's limit
    assert ticket.resolution_state == "awaiting_approval" and ticket.clock_paused_at is None
    frozen_clock.move(hours=5)
    services.approve_compensation(ticket, supervisor, version=ticket.version)
    frozen_clock.move(hours=20)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=False, reason="No")
    db.session.commit()
    assert ticket.resolution_due_at == T0 + timedelta(hours=72 + 20)  # the customer's 20 hours only


def test_follow_up_and_review_are_due_after_their_configured_delays(app, agent, frozen_clock):
    app.config.update(FOLLOW_UP_DELAY_HOURS=24, REVIEW_DELAY_HOURS=12)
    ticket = to_step(open_case(agent), agent, "follow_up")
    assert ticket.follow_up_due_at == T0 + timedelta(hours=24)
    to_step(ticket, agent, "review")
    frozen_clock.move(hours=3)
    services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Test seals")
    db.session.commit()
    assert ticket.review_due_at == T0 + timedelta(hours=15)


# --- the deadlines a case shows, and the overdue rule --------------------------------------


def names_and_met(ticket) -> dict:
    return {item.name: item.met for item in case_deadlines(ticket)}


def test_case_deadlines_follow_the_case_from_intake_to_follow_up(agent, frozen_clock):
    ticket = open_case(agent)
    assert names_and_met(ticket) == {"response": False, "resolution": False}
    to_step(ticket, agent, "resolve")
    propose(ticket, agent)
    assert names_and_met(ticket) == {"response": True, "resolution": False, "promise": False}
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=True)
    services.carry_out_resolution(ticket, agent, version=ticket.version)
    db.session.commit()
    assert names_and_met(ticket) == {"response": True, "resolution": True, "promise": True, "follow_up": False}


def test_every_deadline_of_a_cancelled_case_counts_as_met(agent, frozen_clock):
    ticket = open_case(agent)
    services.cancel_case(ticket, agent, version=ticket.version, reason="Duplicate call")
    db.session.commit()
    assert all(item.met for item in case_deadlines(ticket))
    assert not is_overdue(ticket, T0 + timedelta(days=30))


def build_cases_in_every_state(agent, supervisor) -> dict[str, Ticket]:
    cases = {"new": open_case(agent), "analysing": to_step(open_case(agent), agent, "analyse")}
    cases["awaiting_approval"] = to_step(open_case(agent), agent, "resolve")
    propose(cases["awaiting_approval"], agent, amount=Decimal("300"))
    cases["awaiting_customer"] = to_step(open_case(agent), agent, "resolve")
    propose(cases["awaiting_customer"], agent)
    cases["rejected"] = to_step(open_case(agent), agent, "resolve")
    propose(cases["rejected"], agent)
    services.record_customer_answer(
        cases["rejected"], agent, version=cases["rejected"].version, accepted=False, reason="No"
    )
    cases["follow_up"] = to_step(open_case(agent), agent, "follow_up")
    cases["review"] = to_step(open_case(agent), agent, "review")
    services.record_review(cases["review"], agent, version=cases["review"].version, summary="s", lesson="l")
    cases["closed"] = to_step(open_case(agent), agent, "review")
    services.record_review(cases["closed"], agent, version=cases["closed"].version, summary="s", lesson="l")
    services.approve_review(cases["closed"], supervisor, version=cases["closed"].version)
    cases["cancelled"] = open_case(agent)
    services.cancel_case(cases["cancelled"], agent, version=cases["cancelled"].version, reason="Duplicate")
    db.session.commit()
    return cases


EXPECTED_OVERDUE = {
    7: set(),
    9: {"new"},  # first response was due after 8 hours
    25: {"new", "review"},  # review waiting since hour 24
    49: {"new", "review", "follow_up"},  # follow-up call due after 48 hours
    73: {"new", "review", "follow_up", "analysing", "awaiting_approval", "rejected"},
    24 * 30: {"new", "review", "follow_up", "analysing", "awaiting_approval", "rejected"},
}


def test_is_overdue_and_overdue_condition_agree_on_every_state(agent, supervisor, frozen_clock):
    cases = build_cases_in_every_state(agent, supervisor)
    db.session.expire_all()
    name_of = {ticket.id: name for name, ticket in cases.items()}
    for hours, expected in EXPECTED_OVERDUE.items():
        now = T0 + timedelta(hours=hours)
        in_sql = {name_of[i] for i in db.session.scalars(select(Ticket.id).where(overdue_condition(now)))}
        in_python = {name for name, ticket in cases.items() if is_overdue(db.session.get(Ticket, ticket.id), now)}
        assert in_sql == in_python == expected, f"after {hours} hours"


def test_a_passed_promise_alone_does_not_make_a_case_overdue(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=True)
    db.session.commit()
    after_promise = T0 + timedelta(days=5)
    promise = next(item for item in case_deadlines(ticket) if item.name == "promise")
    assert promise.overdue(after_promise)
    assert not is_overdue(ticket, after_promise)
    assert db.session.scalar(select(Ticket.id).where(overdue_condition(after_promise))) is None


def test_a_row_is_late_when_any_deadline_but_the_promise_is_overdue():
    """The queue marks a row late by is_overdue's rule, also when a missed promise is named first."""
    from ticketing.cases.deadlines import Deadline, Pressing, overdue_among

    promise = Pressing(Deadline("promise", "Promised", T0 - timedelta(days=2)), "overdue")
    follow_up = Pressing(Deadline("follow_up", "Follow-up", T0 - timedelta(days=1)), "overdue")
    at_risk = Pressing(Deadline("response", "Response", T0 + timedelta(hours=1)), "at_risk")
    assert overdue_among([promise, follow_up]) and overdue_among([follow_up])
    assert not overdue_among([promise]) and not overdue_among([at_risk]) and not overdue_among([])
