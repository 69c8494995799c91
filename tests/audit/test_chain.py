"""The record log is append-only and tamper-evident, on SQLite and PostgreSQL."""

import gc
import threading

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DatabaseError

from tests.databases import behind_the_applications_back
from tests.factories import open_case, to_step
from ticketing.cases import services
from ticketing.cases.audit import Event, new_event
from ticketing.cases.chain import link_all, verify
from ticketing.clock import utcnow
from ticketing.extensions import db


def _without_update_trigger(statement: str) -> None:
    """Alter the log behind the application's back, as an attacker with database access would."""
    behind_the_applications_back("events", statement)


@pytest.fixture
def logged_case(agent, supervisor):
    ticket = open_case(agent)
    to_step(ticket, agent, "follow_up", approver=supervisor, amount=500)
    return ticket


def test_each_case_has_an_unbroken_chain(logged_case):
    events = db.session.scalars(select(Event).where(Event.ticket_id == logged_case.id).order_by(Event.seq)).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash is None
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:]))
    assert verify(Event) == (len(events), None)


@pytest.mark.parametrize("statement", ["UPDATE events SET action = 'cancel'", "DELETE FROM events"])
def test_the_database_refuses_to_change_or_delete_log_rows(logged_case, statement):
    before = db.session.scalar(select(func.count(Event.id)))
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count(Event.id))) == before


def test_verify_names_the_event_altered_behind_the_applications_back(logged_case):
    target = db.session.scalars(select(Event).where(Event.ticket_id == logged_case.id, Event.seq == 4)).one()
    _without_update_trigger(f"UPDATE events SET actor_name = 'Someone Else' WHERE id = {target.id}")
    checked, broken = verify(Event)
    assert broken is not None and broken.event_id == target.id and broken.seq == 4
    assert checked == 3


def test_verify_notices_a_forged_hash_by_the_next_event(logged_case):
    target = db.session.scalars(select(Event).where(Event.ticket_id == logged_case.id, Event.seq == 2)).one()
    _without_update_trigger(f"UPDATE events SET changes = '{{}}', hash = '{'0' * 64}' WHERE id = {target.id}")
    _, broken = verify(Event)
    assert broken.event_id == target.id


def test_flask_audit_verify_reports_intact_and_broken_logs(runner, logged_case):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "Record log intact" in result.output
    target = db.session.scalars(select(Event).where(Event.ticket_id == logged_case.id, Event.seq == 3)).one()
    _without_update_trigger(f"UPDATE events SET action = 'note' WHERE id = {target.id}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"event {target.id} ({logged_case.reference}, event #3" in result.output


def test_concurrent_writers_cannot_fork_a_chain(app, agent):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer; the concurrent test runs on PostgreSQL")
    ticket = open_case(agent)
    ticket_id, agent_id = ticket.id, agent.id
    errors, start = [], threading.Barrier(4)

    def write_notes():
        with app.app_context():
            from ticketing.auth.models import User
            from ticketing.cases.models import Ticket

            start.wait()
            for n in range(10):
                try:  # appends straight to the log: the chain itself must serialise them
                    case, author = db.session.get(Ticket, ticket_id), db.session.get(User, agent_id)
                    event = new_event(case, author, "note", {"body": (None, f"note {n}")}, utcnow())
                    link_all([event])
                    db.session.add(event)
                    db.session.commit()
                except Exception as error:
                    db.session.rollback()
                    errors.append(error)
            db.session.remove()

    threads = [threading.Thread(target=write_notes) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    seqs = db.session.scalars(select(Event.seq).where(Event.ticket_id == ticket_id).order_by(Event.seq)).all()
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) == 2 + 40
    assert verify(Event)[1] is None


def test_several_changes_in_one_transaction_and_a_savepoint_rolled_back_keep_one_unbroken_chain(agent):
    """A transaction reads a case's chain head once and remembers it for its later events (a new case's
    is known to be empty); a savepoint rolled back with its events makes it read the head again."""
    reads = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("SELECT events.ticket_id, events.seq, events.hash"):
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    try:
        ticket = open_case(agent)  # created and step 1 recorded in one transaction
        assert reads == []
        services.add_note(ticket, agent, body="First note")
        services.add_note(ticket, agent, body="Second note")
        assert len(reads) == 1  # the head is read once, then known
        try:
            with db.session.begin_nested():
                services.add_note(ticket, agent, body="Undone")
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
        services.add_note(ticket, agent, body="Third note")
        assert len(reads) == 2  # after the savepoint the head is read again, without the undone note
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", remember)
    events = db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.seq)).all()
    notes = [e.changes["body"][1] for e in events if e.action == "note"]
    assert notes == ["First note", "Second note", "Third note"]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert verify(Event) == (len(events), None)


@pytest.mark.parametrize(
    "value",
    [1e16, 2.5e-7, 2**70, "第二次来电：客户说“谢谢”\u2028", {"b": [1, 2.0], "a": None}],
    ids=["float exponent", "small float", "integer beyond 64 bits", "chinese and separators", "nested"],
)
def test_an_event_of_any_json_content_verifies_and_is_caught_when_altered(logged_case, agent, value):
    """verify encodes most contents with a faster encoder than the seal's; whatever an event holds —
    a float the two write differently (1e16 against 1e+16), an integer only one of them takes — it
    verifies as sealed, and altered, it does not."""
    change = new_event(logged_case, agent, "note", {"figure": (None, value)}, utcnow())
    link_all([change])
    db.session.add(change)
    db.session.commit()
    assert verify(Event)[1] is None
    _without_update_trigger(f"UPDATE events SET actor_name = 'Someone Else' WHERE id = {change.id}")
    assert verify(Event)[1].event_id == change.id
    assert gc.isenabled()  # verify pauses the cycle collector over a batch, and stopping early resumes it
