"""The daily check: `audit verify --since-last` reads only what came after the last intact check,
and still notices a tail cut off or rewritten, a forged new event and a record slipped in since."""

import pytest
from sqlalchemy import func, select

from tests.databases import behind_the_applications_back
from tests.factories import open_case, to_step
from ticketing.cases import checkpoints, services
from ticketing.cases.audit import Event
from ticketing.cases.checkpoints import VerifyCheckpoint
from ticketing.extensions import db


@pytest.fixture
def cases(agent, supervisor):
    first = open_case(agent, name="Li Lei", email="li.lei@example.com")
    to_step(first, agent, "follow_up", approver=supervisor, amount=500)
    second = open_case(agent, name="Han Meimei", email="han.meimei@example.com")
    to_step(second, agent, "resolve")
    return first, second


def _events(ticket_id=None) -> int:
    query = select(func.count(Event.id))
    if ticket_id is not None:
        query = query.where(Event.ticket_id == ticket_id)
    return db.session.scalar(query)


def _verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


def test_a_full_verify_leaves_a_checkpoint_and_prints_its_rate(runner, cases):
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert f"Record log intact: {_events()} events verified" in result.output and "events/s" in result.output
    (checkpoint,) = db.session.scalars(select(VerifyCheckpoint)).all()
    assert checkpoint.scope == "full" and checkpoint.events == _events()
    assert checkpoint.through_event_id == db.session.scalar(select(func.max(Event.id)))


def test_without_a_checkpoint_the_daily_check_runs_the_full_one(runner, cases):
    result = _verify(runner, "--since-last")
    assert result.exit_code == 0 and f"Record log intact: {_events()} events verified" in result.output


def test_the_daily_check_reads_only_the_cases_changed_since_and_moves_the_checkpoint(runner, agent, cases):
    first, second = cases
    assert _verify(runner).exit_code == 0
    services.add_note(second, agent, body="Called back: the customer is away until Monday.")
    db.session.commit()
    result = _verify(runner, "--since-last")
    assert result.exit_code == 0, result.output
    assert "intact since the check of" in result.output
    assert f"1 cases changed since then checked whole, {_events(second.id)} events" in result.output
    latest = checkpoints.latest()
    assert latest.scope == "since" and latest.through_event_id == db.session.scalar(select(func.max(Event.id)))
    result = _verify(runner, "--since-last")  # nothing new: nothing read
    assert result.exit_code == 0 and "0 cases changed since then checked whole, 0 events" in result.output


def test_the_daily_check_names_a_new_event_altered_behind_the_applications_back(runner, agent, cases):
    first, _second = cases
    assert _verify(runner).exit_code == 0
    services.add_note(first, agent, body="Courier confirmed the delivery.")
    db.session.commit()
    newest = db.session.scalars(select(Event).order_by(Event.id.desc())).first()
    behind_the_applications_back(
        "events", "UPDATE events SET actor_name = 'Someone Else' WHERE id = :id", {"id": newest.id}
    )
    result = _verify(runner, "--since-last")
    assert result.exit_code != 0
    assert f"event {newest.id} ({first.reference}, event #{newest.seq}" in result.output and "seal" in result.output
    assert checkpoints.latest().scope == "full"  # a broken check moves nothing


def test_the_daily_check_notices_a_record_slipped_into_an_untouched_case(runner, agent, cases):
    first, _second = cases
    assert _verify(runner).exit_code == 0
    behind_the_applications_back(
        "notes",
        "INSERT INTO notes (ticket_id, author_id, body, created_at) VALUES (:t, :a, 'Backdated excuse', :at)",
        {"t": first.id, "a": agent.id, "at": first.created_at.replace(tzinfo=None)},
    )
    result = _verify(runner, "--since-last")
    assert result.exit_code != 0 and f"at {first.reference}" in result.output and "written by no event" in result.output


def test_the_daily_check_notices_the_verified_tail_cut_off(runner, cases):
    assert _verify(runner).exit_code == 0
    head = checkpoints.latest()
    behind_the_applications_back("events", "DELETE FROM events WHERE id = :id", {"id": head.through_event_id})
    result = _verify(runner, "--since-last")
    assert result.exit_code != 0
    assert f"event #{head.head_seq}, the last one the check of" in result.output and "is gone" in result.output


def test_the_daily_check_notices_a_verified_event_deleted_before_the_head(runner, cases):
    first, _second = cases
    assert _verify(runner).exit_code == 0
    middle = db.session.scalar(select(Event.id).where(Event.ticket_id == first.id, Event.seq == 2))
    behind_the_applications_back("events", "DELETE FROM events WHERE id = :id", {"id": middle})
    result = _verify(runner, "--since-last")
    assert result.exit_code != 0 and "1 of the events the check of" in result.output and "are gone" in result.output


def test_the_daily_check_notices_the_verified_head_rewritten(runner, cases):
    assert _verify(runner).exit_code == 0
    head = checkpoints.latest()
    behind_the_applications_back(
        "events", f"UPDATE events SET hash = '{'0' * 64}' WHERE id = :id", {"id": head.through_event_id}
    )
    result = _verify(runner, "--since-last")
    assert result.exit_code != 0 and "history rewritten" in result.output


def test_an_old_record_of_an_untouched_case_changed_in_place_is_the_full_checks_to_find(runner, cases):
    """What the README says the daily check does not cover, and the full check does."""
    first, _second = cases
    assert _verify(runner).exit_code == 0
    behind_the_applications_back(
        "listen_records",
        "UPDATE listen_records SET customer_words = 'It was fine' WHERE ticket_id = :t",
        {"t": first.id},
    )
    assert _verify(runner, "--since-last").exit_code == 0
    result = _verify(runner)
    assert result.exit_code != 0 and "customer_words" in result.output
