"""The dispatcher: each due reminder is delivered exactly once, to the right people; a message
that cannot be sent retries alone with backoff and ends "failed"; a lost claim is taken over;
jobs record their runs."""

import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import open_case, propose, to_step
from tests.scheduling.helpers import T0, notifications, only_pending, reminders_of
from ticketing.cases import chain, services, settings
from ticketing.cases.audit import Event
from ticketing.cases.models import Reminder
from ticketing.cases.records import GuaranteeSuggestion
from ticketing.cases.reminders import create_daily_digests
from ticketing.extensions import db
from ticketing.scheduling import dispatcher
from ticketing.scheduling.dispatcher import _claim_one, dispatch_due
from ticketing.scheduling.jobs import digest_job, dispatch_job, run_recorded
from ticketing.scheduling.models import Delivery, JobRun


def hours(n):
    return T0 + timedelta(hours=n)


@pytest.fixture
def admin_and_retired(make_user):
    """Another supervisor-level reader, and a deactivated supervisor who must receive nothing."""
    admin = make_user("admin", "admin@example.com", "Ada Admin")
    retired = make_user("supervisor", "retired@example.com", "Ret Ired")
    retired.active = False
    db.session.commit()
    return admin, retired


@pytest.fixture
def unreachable_smtp(app):
    """SMTP configured at a local port where nothing listens: every send is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    return port


def receivers(kind) -> list[int]:
    return sorted(n.user_id for n in notifications(kind=kind))


# --- on time, once ---------------------------------------------------------------------


def test_nothing_is_delivered_before_it_is_due(agent, frozen_clock):
    ticket = open_case(agent, email=None)
    result = dispatch_due(hours(6) - timedelta(seconds=1))
    assert result.sent == 0 and notifications() == []
    assert {r.status for r in reminders_of(ticket)} == {"pending"}


def test_a_due_reminder_is_delivered_once_to_its_assignee(agent, supervisor, frozen_clock):
    ticket = open_case(agent)
    frozen_clock.move(hours=6)
    assert dispatch_due(frozen_clock.now).sent == 1
    [note] = notifications()
    assert (note.user_id, note.kind, note.ticket_id) == (agent.id, "response_at_risk", ticket.id)
    assert note.details["reference"] == ticket.reference
    reminder = db.session.get(Reminder, note.reminder_id)
    assert (reminder.status, reminder.sent_at, reminder.attempts) == ("sent", frozen_clock.now, 1)
    assert dispatch_due(frozen_clock.now).sent == 0
    assert dispatch_due(frozen_clock.now + timedelta(minutes=30)).sent == 0
    assert len(notifications()) == 1


def test_a_breach_reaches_every_active_supervisor_and_no_agent(agent, supervisor, admin_and_retired, frozen_clock):
    admin, retired = admin_and_retired
    open_case(agent)
    dispatch_due(hours(8))
    assert receivers("response_at_risk") == [agent.id]
    assert receivers("response_breached") == sorted([supervisor.id, admin.id])
    assert notifications(retired) == []


def test_a_reminder_for_a_deactivated_assignee_goes_to_the_supervisors(agent, supervisor, frozen_clock):
    open_case(agent)
    agent.active = False
    db.session.commit()
    dispatch_due(hours(6))
    assert receivers("response_at_risk") == [supervisor.id]


def new_case(agent, supervisor):
    return open_case(agent)


def analysing(agent, supervisor):
    return to_step(open_case(agent), agent, "analyse")


def awaiting_customer(agent, supervisor):
    ticket = to_step(open_case(agent), agent, "resolve")
    propose(ticket, agent)
    return ticket


def accepted(agent, supervisor):
    ticket = awaiting_customer(agent, supervisor)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=True)
    db.session.commit()
    return ticket


def carried_out(agent, supervisor):
    return to_step(open_case(agent), agent, "follow_up")


def review_recorded(agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review")
    services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Seals")
    db.session.commit()
    return ticket


@pytest.mark.parametrize(
    "kind, reach, to_supervisors",
    [
        ("response_at_risk", new_case, False),
        ("response_breached", new_case, True),
        ("resolution_at_risk", analysing, False),
        ("resolution_breached", analysing, True),
        ("promise_approaching", awaiting_customer, False),
        ("promise_passed", accepted, False),
        ("follow_up_due", carried_out, False),
        ("review_waiting", review_recorded, True),
    ],
)
def test_every_kind_is_delivered_once_when_due(kind, reach, to_supervisors, agent, supervisor, frozen_clock):
    ticket = reach(agent, supervisor)
    reminder = only_pending(ticket, kind)
    frozen_clock.now = reminder.due_at
    dispatch_due(frozen_clock.now)
    assert reminder.status == "sent"
    assert receivers(kind) == [supervisor.id if to_supervisors else agent.id]
    frozen_clock.move(minutes=5)
    dispatch_due(frozen_clock.now)
    assert receivers(kind) == [supervisor.id if to_supervisors else agent.id]


def test_every_due_reminder_is_handed_out_in_one_pass(app, agent, supervisor, frozen_clock):
    for _ in range(3):
        open_case(agent, email=None)
    result = dispatch_due(hours(8))  # each case: an at-risk warning and a breach
    assert result.sent == 6
    due = list(db.session.scalars(select(Reminder.status).where(Reminder.due_at <= hours(8))))
    assert due == ["sent"] * 6


# --- the case moved on ------------------------------------------------------------------------


def test_a_reminder_cancelled_before_it_is_due_is_never_delivered(agent, supervisor, frozen_clock):
    ticket = open_case(agent)
    frozen_clock.move(hours=1)
    to_step(ticket, agent, "analyse")  # responded
    dispatch_due(hours(10))
    assert notifications() == []


def test_an_email_whose_case_moved_on_before_it_left_is_cancelled(agent, supervisor, inbox, frozen_clock):
    ticket = open_case(agent, email=None)
    frozen_clock.move(hours=6)
    assert dispatcher._fan_out_next(frozen_clock.now, "pass", dispatcher.PassResult())  # notice made, e-mail queued
    db.session.commit()
    services.record_apology(ticket, agent, version=ticket.version, method="phone", wording="Sorry.")
    db.session.commit()
    result = dispatch_due(frozen_clock.now)
    assert (result.mailed, result.cancelled) == (0, 1)
    assert [d.status for d in db.session.scalars(select(Delivery))] == ["cancelled"]
    assert inbox.received == []


# --- failures and crashes ----------------------------------------------------------------------


def test_an_unreachable_mail_server_is_retried_with_backoff_then_marked_failed(
    app, agent, unreachable_smtp, frozen_clock
):
    ticket = open_case(agent, email=None)
    reminder = only_pending(ticket, "response_at_risk")
    now = hours(6)
    assert dispatch_due(now).sent == 1
    [delivery] = db.session.scalars(select(Delivery))
    assert reminder.status == "sent" and len(notifications()) == 1  # the in-app notice does not wait for mail
    for attempt, wait in enumerate([30, 60, 120, 240], start=1):
        assert (delivery.status, delivery.attempts) == ("pending", attempt)
        assert delivery.run_at == now + timedelta(seconds=wait)
        assert "ConnectionRefusedError" in delivery.last_error
        assert dispatch_due(delivery.run_at - timedelta(seconds=1)).retried == 0  # not before its time
        now = delivery.run_at
        result = dispatch_due(now)
        assert result.mailed == 0 and (result.retried, result.failed) == ((1, 0) if attempt < 4 else (0, 1))
    assert (delivery.status, delivery.attempts) == ("failed", app.config["DISPATCH_MAX_ATTEMPTS"])
    assert dispatch_due(now + timedelta(days=1)).failed == 0
    assert len(notifications()) == 1


def test_a_missed_resolution_deadline_suggests_the_guarantee_once(agent, supervisor, frozen_clock):
    ticket = to_step(open_case(agent), agent, "analyse")
    frozen_clock.now = hours(72)
    dispatch_due(frozen_clock.now)
    suggestions = list(db.session.scalars(select(GuaranteeSuggestion)))
    assert [(s.ticket_id, s.type, s.amount, s.status) for s in suggestions] == [
        (ticket.id, "voucher", Decimal("20.00"), "suggested")
    ]  # the normal-priority guarantee
    events = list(db.session.scalars(select(Event).where(Event.action == "suggest_compensation")))
    assert [(e.ticket_id, e.actor_id, e.actor_name) for e in events] == [(ticket.id, None, "scheduler")]
    # A second missed deadline on the same case (the customer rejected a late proposal) adds nothing.
    to_step(ticket, agent, "resolve")
    propose(ticket, agent)
    frozen_clock.move(hours=1)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=False, reason="Late")
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert len(reminders_of(ticket, "resolution_breached", status="sent")) == 2
    assert len(list(db.session.scalars(select(GuaranteeSuggestion)))) == 1
    assert len(list(db.session.scalars(select(Event).where(Event.action == "suggest_compensation")))) == 1


def test_missed_deadlines_of_many_cases_in_one_batch_each_get_their_guarantee_in_their_own_chain(
    agent, supervisor, frozen_clock
):
    customers = [(f"Customer {n}", f"c{n}@example.com") for n in range(3)]
    cases = [to_step(open_case(agent, name=name, email=email), agent, "analyse") for name, email in customers]
    services.add_note(cases[0], agent, body="A note written before the breach")
    db.session.commit()
    frozen_clock.now = hours(72)
    assert dispatch_due(frozen_clock.now).sent >= 3  # the three breaches go out in one batch
    suggested = [(s.ticket_id, s.type) for s in db.session.scalars(select(GuaranteeSuggestion).order_by("ticket_id"))]
    assert suggested == [(case.id, "voucher") for case in cases]
    for case in cases:
        log = list(db.session.scalars(select(Event).where(Event.ticket_id == case.id).order_by(Event.seq)))
        assert [e.seq for e in log] == list(range(1, len(log) + 1))
        assert log[-1].action == "suggest_compensation" and log[-1].prev_hash == log[-2].hash
        assert log[-1].actor_name == "scheduler"
        assert [line.split()[0] for line in log[-1].changes["compensation"][1]] == ["voucher"]
    assert chain.verify(Event) == (db.session.scalar(select(func.count(Event.id))), None)


def test_the_guarantee_is_suggested_even_when_the_email_cannot_be_sent(
    agent, supervisor, unreachable_smtp, frozen_clock
):
    ticket = to_step(open_case(agent, email=None), agent, "analyse")
    assert dispatch_due(hours(72)).retried == 2  # the at-risk warning and the breach
    assert [s.ticket_id for s in db.session.scalars(select(GuaranteeSuggestion))] == [ticket.id]


def test_a_message_claim_lost_in_a_crash_is_taken_over_after_the_lease(app, agent, inbox, frozen_clock):
    open_case(agent, email=None)
    claimed_at = hours(6)
    dispatcher._fan_out_next(claimed_at, "crashed-worker", dispatcher.PassResult())
    assert _claim_one(Delivery, claimed_at, "crashed-worker") is not None
    db.session.commit()
    lease = timedelta(seconds=app.config["DISPATCH_LEASE_SECONDS"])
    assert dispatch_due(claimed_at + lease - timedelta(seconds=1)).mailed == 0  # maybe still at work
    [delivery] = db.session.scalars(select(Delivery))
    assert (delivery.status, delivery.claimed_by) == ("sending", "crashed-worker")
    assert dispatch_due(claimed_at + lease + timedelta(seconds=1)).mailed == 1
    assert delivery.status == "sent"
    assert len(inbox.to(agent.email)) == 1


def test_a_claimed_message_is_not_claimed_twice(agent, supervisor, inbox, frozen_clock):
    open_case(agent, email=None)
    dispatcher._fan_out_next(hours(8), "first", dispatcher.PassResult())
    dispatcher._fan_out_next(hours(8), "first", dispatcher.PassResult())
    first = {_claim_one(Delivery, hours(8), "first"), _claim_one(Delivery, hours(8), "first")}
    assert len(first - {None}) == 2
    assert _claim_one(Delivery, hours(8), "second") is None


# --- reminders that are not about one case ---------------------------------------------------


def test_the_daily_digest_counts_each_readers_own_cases(agent, supervisor, frozen_clock):
    open_case(agent)
    waiting = to_step(open_case(agent), agent, "resolve")
    propose(waiting, agent, amount=Decimal("300"))  # waits for a supervisor's approval
    frozen_clock.move(hours=9)  # the first case has missed its first response
    create_daily_digests(frozen_clock.now)
    db.session.commit()
    dispatch_due(frozen_clock.now)
    [mine] = notifications(agent, "daily_digest")
    assert mine.details == {"open": 2, "overdue": 1, "follow_ups": 0, "approvals": 0}
    [theirs] = notifications(supervisor, "daily_digest")
    assert theirs.details == {"open": 0, "overdue": 0, "follow_ups": 0, "approvals": 1}


def test_a_digest_for_someone_deactivated_since_goes_to_nobody(agent, supervisor, frozen_clock):
    create_daily_digests(T0)
    agent.active = False
    db.session.commit()
    result = dispatch_due(T0)
    assert receivers("daily_digest") == [supervisor.id]  # the supervisor's own digest, not the agent's
    assert result.skipped == 1


def test_customer_notices_without_smtp_are_skipped_and_no_staff_member_is_notified(agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    result = dispatch_due(frozen_clock.now)
    assert [r.status for r in reminders_of(ticket, "satisfaction_survey")] == ["skipped"]
    assert [r.status for r in reminders_of(ticket, "remedy_done")] == ["skipped"]
    assert [r.status for r in reminders_of(ticket, "portal_link")] == ["skipped"]
    # The proposal was answered before the dispatcher came by: it is not announced late.
    assert [r.status for r in reminders_of(ticket, "proposal_waiting")] == ["cancelled"]
    assert (result.sent, result.skipped, result.cancelled) == (0, 3, 1)
    assert notifications() == []


# --- jobs ---------------------------------------------------------------------------------


def test_a_job_run_is_recorded_with_its_result(agent, frozen_clock):
    open_case(agent)
    frozen_clock.move(hours=6)
    run_recorded("dispatch", dispatch_job)
    run = db.session.get(JobRun, "dispatch")
    assert (run.runs, run.last_started_at, run.last_error) == (1, frozen_clock.now, None)
    assert run.last_result.startswith("sent 1,")
    run_recorded("dispatch", dispatch_job)
    assert (run.runs, run.last_result.startswith("sent 0,")) == (2, True)


def test_a_failing_job_records_its_error_and_leaves_the_session_usable(agent, frozen_clock):
    def broken(now):
        db.session.add(Reminder(key="half-done", kind="daily_digest", audience="user", due_at=now, run_at=now))
        raise RuntimeError("the database went away")

    run_recorded("daily_digest", broken)
    run = db.session.get(JobRun, "daily_digest")
    assert run.runs == 1 and run.last_result is None
    assert "RuntimeError: the database went away" in run.last_error
    assert db.session.scalar(select(Reminder.id).where(Reminder.key == "half-done")) is None


def test_the_digest_job_queues_todays_digests_once_in_the_hour_the_settings_name(agent, supervisor, frozen_clock):
    run_recorded("daily_digest", digest_job)  # 17:00 in Shanghai; the digest hour is 8
    assert db.session.get(JobRun, "daily_digest").last_result == "not the digest hour"
    settings.save(supervisor, {"digest_hour": 17}, frozen_clock.now)
    db.session.commit()
    run_recorded("daily_digest", digest_job)
    run_recorded("daily_digest", digest_job)
    run = db.session.get(JobRun, "daily_digest")
    assert (run.runs, run.last_result) == (3, "0 digests queued")
    assert len(list(db.session.scalars(select(Reminder).where(Reminder.kind == "daily_digest")))) == 2
