"""Reminder rows follow the case: each kind is created when the case reaches its state, with the
right due time and audience, and cancelled when the case moves on."""

from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

from tests.factories import open_case, propose, to_step, unsatisfied_follow_up
from tests.scheduling.helpers import T0, only_pending, pending, reminder_count, reminders_of
from ticketing.cases import services
from ticketing.cases.models import Reminder
from ticketing.cases.reminders import create_daily_digests, sync_reminders
from ticketing.extensions import db

ASSIGNEE_KINDS = {"response_at_risk", "resolution_at_risk"}
SUPERVISOR_KINDS = {"response_breached", "resolution_breached"}


def hours(n) -> datetime:
    return T0 + timedelta(hours=n)


def assert_for(reminder, user):
    """An assignee's reminder names them; a supervisors' reminder names nobody."""
    if user is None:
        assert (reminder.audience, reminder.user_id) == ("supervisors", None)
    else:
        assert (reminder.audience, reminder.user_id) == ("assignee", user.id)


# --- created at the right time, for the right people --------------------------------


def test_a_new_case_gets_response_and_resolution_reminders(agent, frozen_clock):
    ticket = open_case(agent)
    assert set(pending(ticket)) == ASSIGNEE_KINDS | SUPERVISOR_KINDS
    # normal priority: 8 hours to respond, 72 to propose; warn when 75% of the time is used
    expected = {
        "response_at_risk": (hours(6), agent),
        "response_breached": (hours(8), None),
        "resolution_at_risk": (hours(54), agent),
        "resolution_breached": (hours(72), None),
    }
    for kind, (due, user) in expected.items():
        reminder = only_pending(ticket, kind)
        assert reminder.due_at == reminder.run_at == due, kind
        assert_for(reminder, user)


def test_the_warning_comes_when_the_configured_fraction_of_the_time_is_used(app, agent, frozen_clock):
    app.config["AT_RISK_FRACTION"] = 0.5
    ticket = open_case(agent)
    assert only_pending(ticket, "response_at_risk").due_at == hours(4)
    assert only_pending(ticket, "resolution_at_risk").due_at == hours(36)


def test_a_complaint_from_the_portal_alerts_the_supervisors_at_once(agent, frozen_clock):
    customer = services.find_or_create_customer("Li Lei", "li.lei@example.com", None)
    ticket = services.take_complaint(
        None, customer=customer, subject="Leaking kettle", description="It leaks.", channel="web"
    )
    db.session.commit()
    assert ticket.assignee_id is None
    assert set(pending(ticket)) == ASSIGNEE_KINDS | SUPERVISOR_KINDS
    assert {(r.audience, r.user_id) for r in reminders_of(ticket)} == {("supervisors", None), ("customer", None)}
    assert set(pending(ticket, "customer")) == {"portal_link"}  # the case-received message


def test_the_first_response_cancels_the_response_reminders(agent, frozen_clock):
    ticket = open_case(agent)
    frozen_clock.move(hours=1)
    to_step(ticket, agent, "analyse")  # the apology is the first response
    for kind in ("response_at_risk", "response_breached"):
        assert [r.status for r in reminders_of(ticket, kind)] == ["cancelled"]
    assert set(pending(ticket)) == {"resolution_at_risk", "resolution_breached"}


def test_a_customer_message_brings_back_the_response_reminders_for_the_new_deadline(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "analyse")
    frozen_clock.move(hours=20)
    services.send_message(ticket, None, body="Any news?")
    db.session.commit()
    assert only_pending(ticket, "response_at_risk").due_at == hours(26)
    assert only_pending(ticket, "response_breached").due_at == hours(28)


def test_a_proposal_to_the_customer_replaces_the_resolution_reminders_with_promise_reminders(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)  # promised for 27 November
    assert set(pending(ticket)) == {"promise_approaching", "promise_passed"}
    promised_end = datetime(2026, 11, 27, 15, 59, tzinfo=timezone.utc)  # 23:59 in Shanghai
    assert only_pending(ticket, "promise_passed").due_at == promised_end
    assert only_pending(ticket, "promise_approaching").due_at == promised_end - timedelta(hours=24)
    for kind in ("promise_approaching", "promise_passed"):
        assert_for(only_pending(ticket, kind), agent)
    assert {r.status for r in reminders_of(ticket, "resolution_breached")} == {"cancelled"}


def test_a_proposal_waiting_for_approval_keeps_the_resolution_reminders(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent, amount=Decimal("300"))
    # …and the supervisors are told at once that it waits for them.
    assert set(pending(ticket)) == {"resolution_at_risk", "resolution_breached", "approval_waiting"}


def test_a_rejection_cancels_the_promise_and_restarts_the_resolution_reminders(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    frozen_clock.move(hours=10)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=False, reason="No")
    db.session.commit()
    assert {r.status for r in reminders_of(ticket, "promise_passed")} == {"cancelled"}
    assert set(pending(ticket)) == {"resolution_at_risk", "resolution_breached"}
    assert only_pending(ticket, "resolution_breached").due_at == hours(82)  # extended by the 10 hours


def test_carrying_out_the_resolution_schedules_the_follow_up_call(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=True)
    frozen_clock.move(hours=5)
    services.carry_out_resolution(ticket, agent, version=ticket.version)
    db.session.commit()
    assert set(pending(ticket)) == {"follow_up_due"}
    follow_up = only_pending(ticket, "follow_up_due")
    assert follow_up.due_at == hours(5 + 48)
    assert_for(follow_up, agent)
    assert {r.status for r in reminders_of(ticket, "promise_passed")} == {"cancelled"}


def test_recording_the_follow_up_cancels_its_reminder_and_asks_the_customer(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "follow_up")
    frozen_clock.move(hours=30)
    to_step(ticket, agent, "review")
    assert [r.status for r in reminders_of(ticket, "follow_up_due")] == ["cancelled"]
    survey = reminders_of(ticket, "satisfaction_survey")
    assert len(survey) == 1
    assert (survey[0].audience, survey[0].user_id, survey[0].status) == ("customer", None, "pending")
    assert survey[0].due_at == hours(30)


def test_no_survey_is_queued_for_a_customer_without_email(agent, frozen_clock):
    ticket = to_step(open_case(agent, email=None, name="Wang Fang"), agent, "review")
    assert ticket.customer.email is None
    assert reminders_of(ticket, "satisfaction_survey") == []


def test_an_unsatisfied_follow_up_cancels_the_call_and_restarts_the_resolution(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "follow_up")
    frozen_clock.move(hours=10)
    unsatisfied_follow_up(ticket, agent)
    [survey] = reminders_of(ticket, "satisfaction_survey")  # satisfied or not, the customer is asked
    assert survey.due_at == hours(10)
    assert set(pending(ticket)) == {"resolution_at_risk", "resolution_breached"}
    assert only_pending(ticket, "resolution_breached").due_at == hours(10 + 72)


def test_a_recorded_review_waits_for_the_supervisors(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    frozen_clock.move(hours=2)
    services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Seals")
    db.session.commit()
    review = only_pending(ticket, "review_waiting")
    assert review.due_at == hours(2 + 24)
    assert_for(review, None)


def test_approving_the_review_closes_the_case_and_cancels_its_reminders(agent, supervisor, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Seals")
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    assert set(pending(ticket)) == set()
    assert set(pending(ticket, "customer")) >= {"satisfaction_survey", "case_closed"}  # still asked how we did
    assert [r.status for r in reminders_of(ticket, "review_waiting")] == ["cancelled"]


def test_a_returned_review_cancels_the_review_reminder(agent, supervisor, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Seals")
    frozen_clock.move(hours=3)
    services.return_review(ticket, supervisor, version=ticket.version, return_to="resolve", reason="No refund")
    db.session.commit()
    assert [r.status for r in reminders_of(ticket, "review_waiting")] == ["cancelled"]
    # …and the assignee hears at once that the case came back.
    assert set(pending(ticket)) == {"resolution_at_risk", "resolution_breached", "review_returned"}
    assert only_pending(ticket, "review_returned").details == {
        "reason": "No refund",
        "returned_by": supervisor.name,
        "return_to": "resolve",
    }
    assert only_pending(ticket, "review_returned").user_id == agent.id
    assert only_pending(ticket, "resolution_breached").due_at == hours(3 + 72)  # a new proposal is due


def test_cancelling_a_case_cancels_every_pending_reminder(agent, frozen_clock):
    ticket = open_case(agent, email=None)
    assert len(reminders_of(ticket)) == 4
    services.cancel_case(ticket, agent, version=ticket.version, reason="Duplicate call")
    db.session.commit()
    assert {r.status for r in reminders_of(ticket)} == {"cancelled"}


def test_merging_a_case_cancels_its_reminders(agent, frozen_clock):
    duplicate, target = open_case(agent), open_case(agent)
    services.merge_case(duplicate, agent, version=duplicate.version, target=target, reason="Same kettle")
    db.session.commit()
    assert pending(duplicate) == {}
    assert len(pending(target)) == 4


def test_reopening_a_cancelled_case_brings_its_reminders_back(agent, supervisor, frozen_clock):
    ticket = open_case(agent)
    services.cancel_case(ticket, agent, version=ticket.version, reason="Customer withdrew")
    db.session.commit()
    frozen_clock.move(hours=1)
    services.reopen_case(ticket, supervisor, version=ticket.version, reason="Customer called again")
    db.session.commit()
    assert set(pending(ticket)) == ASSIGNEE_KINDS | SUPERVISOR_KINDS
    assert only_pending(ticket, "response_breached").due_at == hours(8)  # never answered: same deadline
    assert only_pending(ticket, "resolution_breached").due_at == hours(1 + 72)  # a fresh resolution clock


# --- reassignment ------------------------------------------------------------------------


def test_reassigning_moves_the_reminders_to_the_new_assignee(agent, supervisor, make_user, frozen_clock):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    breached_before = only_pending(ticket, "response_breached").id
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=colleague)
    db.session.commit()
    for kind in ASSIGNEE_KINDS:
        assert [r.status for r in reminders_of(ticket, kind) if r.user_id == agent.id] == ["cancelled"]
        assert_for(only_pending(ticket, kind), colleague)
    assert only_pending(ticket, "response_breached").id == breached_before  # the supervisors' stays as it was


def test_reassigning_back_gives_the_first_assignee_their_reminders_again(agent, supervisor, make_user, frozen_clock):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    for assignee in (colleague, agent):
        services.assign_case(ticket, supervisor, version=ticket.version, assignee=assignee)
        db.session.commit()
    for kind in ASSIGNEE_KINDS:
        assert_for(only_pending(ticket, kind), agent)
    deadlines = [r for r in reminders_of(ticket) if r.user_id == colleague.id and r.kind != "assigned"]
    assert {r.status for r in deadlines} == {"cancelled"}
    # Each was told the case became theirs (a one-off notice, not cancelled by the next hand-off).
    assert sorted(r.user_id for r in reminders_of(ticket, "assigned")) == sorted([colleague.id, agent.id])


def test_two_reassignments_in_one_transaction_leave_the_reminders_with_the_last_assignee(
    agent, supervisor, make_user, frozen_clock
):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=colleague)
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=agent)
    db.session.commit()
    assert ticket.assignee_id == agent.id
    for kind in ASSIGNEE_KINDS:
        assert_for(only_pending(ticket, kind), agent)


def test_a_new_assignee_gets_no_warning_for_a_deadline_already_missed(agent, supervisor, make_user, frozen_clock):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    frozen_clock.move(hours=9)  # the response deadline (8 hours) has passed
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=colleague)
    db.session.commit()
    assert "response_at_risk" not in pending(ticket)
    assert_for(only_pending(ticket, "response_breached"), None)
    assert_for(only_pending(ticket, "resolution_at_risk"), colleague)  # that deadline is still ahead


# --- no duplicates ----------------------------------------------------------------------


def test_changes_that_move_no_deadline_add_no_reminders(agent, frozen_clock):
    ticket = open_case(agent)
    before = [(r.id, r.status) for r in reminders_of(ticket)]
    for n in range(3):
        frozen_clock.move(minutes=10)
        services.add_note(ticket, agent, body=f"Called back, no answer ({n})")
    sync_reminders(ticket, frozen_clock.now)
    db.session.commit()
    assert [(r.id, r.status) for r in reminders_of(ticket)] == before


def test_every_reminder_key_is_unique_through_a_whole_case(agent, supervisor, make_user, frozen_clock):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=colleague)
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=agent)
    to_step(ticket, agent, "review")
    services.record_review(ticket, agent, version=ticket.version, summary="s", lesson="l")
    services.return_review(ticket, supervisor, version=ticket.version, return_to="resolve", reason="Again")
    to_step(ticket, agent, "review")
    db.session.commit()
    keys = Counter(db.session.scalars(select(Reminder.key)))
    assert keys and max(keys.values()) == 1
    assert len(reminders_of(ticket, "satisfaction_survey")) == 2  # one per follow-up


# --- daily digests --------------------------------------------------------------------------


def test_every_active_user_gets_one_digest_per_local_day(app, agent, supervisor, make_user, frozen_clock):
    retired = make_user("agent", "retired@example.com", "Ret Ired")
    retired.active = False
    db.session.commit()
    assert create_daily_digests(T0) == 2
    db.session.commit()
    digests = list(db.session.scalars(select(Reminder).where(Reminder.kind == "daily_digest")))
    assert {(d.user_id, d.audience, d.ticket_id) for d in digests} == {
        (agent.id, "user", None),
        (supervisor.id, "user", None),
    }
    assert create_daily_digests(T0 + timedelta(hours=6, minutes=59)) == 0  # 23:59 in Shanghai: same day
    assert create_daily_digests(T0 + timedelta(hours=7)) == 2  # midnight in Shanghai: a new day
    db.session.commit()
    assert reminder_count() == 4
