"""Lean storage: sent and cancelled reminder rows older than the desk's retention period are removed by a
daily job, while every in-app notice keeps its text, every message sent keeps its delivery and what it was
about, the record log stays whole, the case page still shows its escalations — and nothing is ever sent
twice because a row is gone."""

from datetime import timedelta

from sqlalchemy import func, select, text

from tests.conftest import login
from tests.factories import open_case
from tests.scheduling.helpers import T0, notifications, reminders_of
from ticketing.cases import services, settings
from ticketing.cases.audit import Event
from ticketing.cases.models import Reminder
from ticketing.cases.reminders import create_daily_digests
from ticketing.extensions import db
from ticketing.scheduling.dispatcher import dispatch_due
from ticketing.scheduling.jobs import retention_job, run_recorded
from ticketing.scheduling.models import Delivery, JobRun
from ticketing.scheduling.retention import remove_old_reminders


def days(n):
    return T0 + timedelta(days=n)


def notice_texts() -> list[tuple]:
    return [(n.user_id, n.ticket_id, n.kind, n.details, n.created_at, n.read_at) for n in notifications()]


def log_of(ticket) -> list[tuple]:
    return [(e.seq, e.action, e.hash) for e in db.session.scalars(select(Event).where(Event.ticket_id == ticket.id))]


def cancelled_case_with_its_warnings_sent(agent, frozen_clock):
    """A case whose first-response warning and breach went out, then cancelled without a response."""
    ticket = open_case(agent, email=None)
    frozen_clock.now = T0 + timedelta(hours=8)
    assert dispatch_due(frozen_clock.now).sent == 2  # the at-risk warning, and the breach
    services.cancel_case(ticket, agent, version=ticket.version, reason="A duplicate")
    db.session.commit()
    return ticket


def test_a_closed_cases_old_reminders_go_and_its_notices_and_log_stay_whole(agent, supervisor, frozen_clock):
    ticket = cancelled_case_with_its_warnings_sent(agent, frozen_clock)
    texts, log = notice_texts(), log_of(ticket)
    kinds_before = {(r.kind, r.status) for r in reminders_of(ticket)}
    assert ("response_at_risk", "sent") in kinds_before and ("resolution_at_risk", "cancelled") in kinds_before

    removed = remove_old_reminders(days(100), 90, batch=1)  # a batch per row: every row is walked to once

    left = [(r.kind, r.status) for r in reminders_of(ticket)]
    assert left == [("response_breached", "sent")]  # the escalation the case page shows stays; the rest go
    assert removed.reminders == len(kinds_before) - 1
    assert notice_texts() == texts  # every notice, word for word
    assert [n.reminder_id is None for n in notifications(kind="response_at_risk")] == [True]
    assert log_of(ticket) == log


def test_nothing_younger_than_the_retention_period_goes(agent, supervisor, frozen_clock):
    ticket = cancelled_case_with_its_warnings_sent(agent, frozen_clock)
    before = len(reminders_of(ticket))
    assert remove_old_reminders(days(89), 90).reminders == 0  # the sent ones are 89 days old, the others younger
    assert len(reminders_of(ticket)) == before


def test_an_open_case_keeps_the_reminders_it_could_ask_for_again(agent, supervisor, frozen_clock):
    ticket = open_case(agent, email=None)
    frozen_clock.now = T0 + timedelta(hours=80)
    dispatch_due(frozen_clock.now)  # every deadline of the case missed: warnings and breaches out
    sent = {r.key for r in reminders_of(ticket, status="sent")}
    frozen_clock.now = days(120)
    remove_old_reminders(frozen_clock.now, 90)
    assert {r.key for r in reminders_of(ticket, status="sent")} == sent
    # The case moves on long after: nothing it was already told is made or told again.
    count = len(notifications())
    services.record_apology(ticket, agent, version=ticket.version, method="phone", wording="Sorry.")
    db.session.commit()
    assert dispatch_due(frozen_clock.now).sent == 0 and len(notifications()) == count


def test_a_case_reopened_after_its_reminders_went_is_not_warned_twice(agent, supervisor, frozen_clock):
    ticket = cancelled_case_with_its_warnings_sent(agent, frozen_clock)
    frozen_clock.now = days(100)
    remove_old_reminders(frozen_clock.now, 90)
    warned = len(notifications(kind="response_at_risk"))
    services.reopen_case(ticket, supervisor, version=ticket.version, reason="The customer called again")
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert len(notifications(kind="response_at_risk")) == warned
    assert len(notifications(kind="response_breached")) == 1  # the breach was never removed: not told again


def test_a_reminder_whose_message_was_sent_is_kept_with_its_delivery(agent, supervisor, inbox, frozen_clock):
    ticket = open_case(agent)  # the customer has an e-mail address: the portal link is mailed
    dispatch_due(frozen_clock.now)
    [delivery] = db.session.scalars(select(Delivery).where(Delivery.recipient == "customer"))
    assert delivery.status == "sent"
    services.cancel_case(ticket, agent, version=ticket.version, reason="A duplicate")
    db.session.commit()
    dispatch_due(frozen_clock.now)
    remove_old_reminders(days(200), 90)
    db.session.expire_all()
    kept = db.session.get(Delivery, delivery.id)
    assert (kept.status, kept.address, kept.reminder.kind, kept.reminder.ticket_id) == (
        "sent",
        "li.lei@example.com",
        "portal_link",
        ticket.id,
    )


def test_old_digests_go_and_todays_is_not_made_again(agent, supervisor, frozen_clock):
    frozen_clock.now = T0.replace(hour=0)  # 08:00 in Shanghai
    create_daily_digests(frozen_clock.now)
    db.session.commit()
    dispatch_due(frozen_clock.now)
    assert len(notifications(kind="daily_digest")) == 2
    later = frozen_clock.now + timedelta(days=91)
    assert remove_old_reminders(later, 90).reminders == 2
    assert db.session.scalar(select(func.count(Reminder.id)).where(Reminder.kind == "daily_digest")) == 0
    assert create_daily_digests(later) == 2  # that day's, one each
    assert len(notifications(kind="daily_digest")) == 2


def test_the_period_is_the_desks_setting_and_the_job_reports_on_the_scheduler_page(
    app, client, agent, supervisor, frozen_clock
):
    ticket = cancelled_case_with_its_warnings_sent(agent, frozen_clock)
    settings.save(supervisor, {"reminder_retention_days": 30}, frozen_clock.now)
    db.session.commit()
    assert settings.desk().reminder_retention_days == 30
    going = len(reminders_of(ticket)) - 1  # all but the breach
    run_recorded("reminder_retention", lambda now: retention_job(days(40)))
    run = db.session.get(JobRun, "reminder_retention")
    assert run.last_error is None
    assert run.last_result.startswith(f"{going} reminder rows older than 30 days removed")
    assert [r.kind for r in reminders_of(ticket)] == ["response_breached"]
    login(client, supervisor.email)
    page = client.get("/admin/scheduler/").get_data(as_text=True)
    assert "Remove old reminder rows" in page and "older than 30 days removed" in page


def test_a_retention_period_outside_its_range_is_refused(supervisor, frozen_clock):
    for wrong in (0, 6, 3651, "ninety"):
        try:
            settings.save(supervisor, {"reminder_retention_days": wrong}, frozen_clock.now)
        except settings.SettingError as error:
            assert error.field == "reminder_retention_days"
        else:
            raise AssertionError(f"{wrong!r} was accepted")
    db.session.rollback()
    assert settings.desk().reminder_retention_days == 90


def test_the_nightly_job_gathers_the_query_planners_statistics_on_sqlite(app, agent, frozen_clock):
    """Without them SQLite found a case's latest proposal through the index of every event's action."""
    open_case(agent)
    said = retention_job(days(40))
    if db.engine.dialect.name != "sqlite":
        assert "statistics" not in said
        return
    assert said.endswith("; the query planner's statistics gathered")
    indexes = {row[0] for row in db.session.execute(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'events'"))}
    assert {"ix_events_action", "ix_events_ticket_id_id"} <= indexes
