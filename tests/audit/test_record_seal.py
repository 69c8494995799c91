"""Every fact of the handling is sealed: a record changed behind the application's back is named by
`audit verify`, a history re-sealed without the key is caught, and anchors catch what was cut off."""

import hashlib
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, DateTime, Enum, Integer, Numeric, func, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.types import JSON
from werkzeug.datastructures import FileStorage

from tests.databases import unprotect
from tests.factories import open_case, propose, to_step, unsatisfied_follow_up
from ticketing import sealing
from ticketing.auth.models import User
from ticketing.cases import anchors, chain, services
from ticketing.cases.attachments import save_attachments
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.cases.survey import record_phone_survey
from ticketing.clock import utcnow
from ticketing.extensions import db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _handled_case(agent, supervisor, customer_name):
    """A case taken through every step, with a message, a note, a file and the survey's answers."""
    ticket = open_case(agent, name=customer_name, email=f"{customer_name.split()[0].lower()}@example.com")
    to_step(ticket, agent, "follow_up", approver=supervisor, amount=500)
    unsatisfied_follow_up(ticket, agent)  # round the loop once: a second follow-up, a second proposal
    to_step(ticket, agent, "follow_up", approver=supervisor, amount=500)
    services.send_message(ticket, agent, body="We have sent the new kettle.")
    services.add_note(ticket, agent, body="Customer prefers calls after 6 pm.")
    save_attachments(ticket, [FileStorage(io.BytesIO(PNG), filename="receipt.png")])
    db.session.commit()
    to_step(ticket, agent, "review")
    record_phone_survey(
        ticket,
        agent,
        version=ticket.version,
        satisfaction=4,
        recommend=8,
        buy_again="yes",
        fair_outcome=4,
        fair_process=5,
        fair_treatment=5,
        comment="Fair in the end.",
    )
    services.record_review(ticket, agent, version=ticket.version, summary="Seal failed.", lesson="Check seals.")
    db.session.commit()
    return ticket


@pytest.fixture
def cases(agent, supervisor):
    """Two handled cases: the second gives every foreign key another row to point at."""
    return _handled_case(agent, supervisor, "Li Lei"), _handled_case(agent, supervisor, "Han Meimei")


def _other_value(column, value, other_ids):
    """A value for `column` that differs from `value` and the database accepts."""
    if column.foreign_keys:
        target = next(iter(column.foreign_keys)).column.table.name
        taken = set(db.session.scalars(select(column))) if column.unique else {value}
        return next(row_id for row_id in other_ids[target] if row_id not in taken)
    kind = getattr(column.type, "impl", column.type)  # a TypeDecorator (UTCDateTime) by what it stores
    if isinstance(kind, Enum):
        return next(choice for choice in kind.enums if choice != getattr(value, "value", value))
    if isinstance(kind, Boolean):
        return not value
    if isinstance(kind, Numeric):
        return (value or Decimal(0)) + 1
    if isinstance(kind, Integer):
        return (value or 0) + 1
    if isinstance(kind, DateTime):
        return (value or utcnow()) + timedelta(hours=1)
    if isinstance(kind, Date):
        return (value or date(2026, 1, 1)) + timedelta(days=1)
    if isinstance(kind, JSON):
        return {"tampered": True}
    length = getattr(kind, "length", None) or 200
    return ((value or "") + "!")[-length:] if value != "!" else "?"


@pytest.mark.parametrize("table_name", sorted(chain.SEALED))
def test_any_column_of_any_record_changed_behind_the_applications_back_is_named(cases, table_name):
    sealed = chain.SEALED[table_name]
    table = sealed.model.__table__
    rows = [row for _ticket, row in sealed.rows_of([ticket.id for ticket in cases])]
    assert rows, f"the handled cases have no {table_name}"
    row = rows[0]
    assert chain.verify(Event)[1] is None
    other_ids = {
        name: db.session.scalars(select(model.__table__.c.id)).all()
        for name, model in [(t.table, t.model) for t in chain.SEALED.values()] + [("users", User), ("tickets", Ticket)]
    }
    unprotect(table_name)
    for column in table.columns:
        if column.name == "id":
            continue
        original = db.session.execute(select(column).where(table.c.id == row.id)).scalar()
        db.session.execute(
            update(table).where(table.c.id == row.id).values({column.name: _other_value(column, original, other_ids)})
        )
        db.session.commit()
        _checked, broken = chain.verify(Event)
        assert broken is not None, f"{table_name}.{column.name} changed unnoticed"
        assert f"{table_name} #{row.id}" in broken.problem
        moved = column.name in ("ticket_id", "resolution_id") and "no longer on this case" in broken.problem
        assert column.name in broken.problem or moved
        db.session.execute(update(table).where(table.c.id == row.id).values({column.name: original}))
        db.session.commit()
        assert chain.verify(Event)[1] is None, f"{table_name}.{column.name} put back is still reported"


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM listen_records",
        "UPDATE analysis_records SET detail = 'It was the customer'",
        "UPDATE survey_responses SET fair_outcome = 1",
        "UPDATE compensation_lines SET amount = 1",
        "DELETE FROM messages",
    ],
)
def test_the_database_refuses_to_delete_records_or_change_what_they_sealed(cases, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()


def test_what_a_later_action_sets_on_a_record_is_sealed_by_that_action(agent, supervisor):
    ticket = open_case(agent)
    to_step(ticket, agent, "resolve")
    propose(ticket, agent, amount=50)
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=True)
    db.session.commit()
    latest = db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.seq.desc())).first()
    resolution_key = next(key for key in latest.records if key.startswith("resolutions:"))
    assert latest.records[resolution_key]["state"] == "accepted"
    assert chain.verify(Event)[1] is None


def _reseal_from(ticket_id: int, seq: int, seal) -> None:
    """Rewrite a case's events from `seq` on with `seal(content)`, relinking each to the one before."""
    unprotect("events")
    rows = db.session.scalars(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.seq)).all()
    previous = None
    for row in rows:
        if row.seq >= seq:
            row.prev_hash = previous.hash if previous else None
            row.hash = seal(chain.content(row))
        previous = row
    db.session.commit()


def test_history_resealed_without_the_key_is_caught(cases):
    ticket = cases[0]
    target = db.session.scalars(select(Event).where(Event.ticket_id == ticket.id, Event.seq == 2)).one()
    unprotect("events")
    target.actor_name = "Someone Else"
    db.session.flush()
    _reseal_from(ticket.id, 2, lambda content: hashlib.sha256(sealing.canonical(content)).hexdigest())
    _checked, broken = chain.verify(Event)
    assert broken is not None and broken.event_id == target.id and "seal" in broken.problem


def test_history_resealed_with_another_key_is_caught(cases):
    import hmac

    ticket = cases[0]
    other = b"an attacker's key of thirty-two characters or more"
    _reseal_from(ticket.id, 1, lambda content: hmac.new(other, sealing.canonical(content), "sha256").hexdigest())
    assert chain.verify(Event)[1].seq == 1


def _delete_events(ticket_id: int, from_seq: int = 1) -> None:
    unprotect("events")
    db.session.execute(text("DELETE FROM events WHERE ticket_id = :t AND seq >= :s"), {"t": ticket_id, "s": from_seq})
    db.session.commit()


def test_deleting_a_cases_last_events_is_caught_against_the_anchor(cases, tmp_path):
    anchor = anchors.read(anchors.write(anchors.take(utcnow()), tmp_path))
    ticket = cases[0]
    last = db.session.scalar(select(func.max(Event.seq)).where(Event.ticket_id == ticket.id))
    _delete_events(ticket.id, from_seq=last - 1)
    assert chain.verify(Event)[1] is None or "no event" in chain.verify(Event)[1].problem
    problems = anchors.check(anchor)
    assert len(problems) == 1
    assert ticket.reference in problems[0] and f"#{last - 1} to #{last} are gone" in problems[0]


def test_deleting_all_of_a_cases_events_is_caught_by_verify_and_the_anchor(cases, tmp_path):
    anchor = anchors.take(utcnow())
    ticket = cases[1]
    _delete_events(ticket.id)
    _checked, broken = chain.verify(Event)
    assert broken.ticket_id == ticket.id and "no events" in broken.problem
    assert any(
        ticket.reference in problem and "all its events are gone" in problem for problem in anchors.check(anchor)
    )


def test_a_history_rewritten_with_recomputed_hashes_differs_from_the_anchor(cases):
    anchor = anchors.take(utcnow())
    ticket = cases[0]
    _reseal_from(ticket.id, 1, lambda content: hashlib.sha256(sealing.canonical(content)).hexdigest())
    assert any("history rewritten" in problem and ticket.reference in problem for problem in anchors.check(anchor))


def test_an_altered_anchor_is_refused(cases):
    anchor = anchors.take(utcnow())
    anchor["cases"] = anchor["cases"][:1]  # someone hides the other case's head
    assert anchors.check(anchor) == [str(anchors.BAD_ANCHOR)]


def test_flask_audit_verify_against_anchor_files(runner, cases, tmp_path):
    result = runner.invoke(args=["audit", "anchor", "--out", str(tmp_path)])
    assert result.exit_code == 0 and "Anchored 2 cases" in result.output
    (path,) = tmp_path.glob("anchor-*.json")
    result = runner.invoke(args=["audit", "verify", "--anchors", str(path)])
    assert result.exit_code == 0, result.output
    assert "Everything anchored" in result.output and "Security log intact" in result.output
    ticket = cases[0]
    last = db.session.scalar(select(func.max(Event.seq)).where(Event.ticket_id == ticket.id))
    _delete_events(ticket.id, from_seq=last)
    result = runner.invoke(args=["audit", "verify", "--anchors", str(path)])
    assert result.exit_code != 0
    assert f"{ticket.reference}: event #{last} is gone" in result.output
    path.write_text(path.read_text().replace('"events"', '"evnts"'))
    result = runner.invoke(args=["audit", "verify", "--anchors", str(path)])
    assert "the anchor itself was altered" in result.output


def test_verify_files_finds_a_swapped_attachment(runner, app, cases):
    from ticketing.cases.attachments import Attachment, path_of

    assert runner.invoke(args=["audit", "verify", "--files"]).exit_code == 0
    attachment = db.session.scalars(select(Attachment).where(Attachment.ticket_id == cases[0].id)).first()
    path_of(attachment).write_bytes(PNG + b"edited")
    result = runner.invoke(args=["audit", "verify", "--files"])
    assert result.exit_code != 0 and "receipt.png is not the file received" in result.output


def test_the_daily_anchor_is_written_and_mailed_to_the_auditor(app, cases, inbox, tmp_path):
    from ticketing.scheduling.jobs import anchor_job

    app.config.update(AUDIT_ANCHOR_DIR=str(tmp_path), AUDIT_ANCHOR_EMAIL="auditor@example.com")
    result = anchor_job(datetime(2026, 12, 2, 0, 15, tzinfo=utcnow().tzinfo))
    assert "2 cases anchored" in result and "mailed to the auditor" in result
    (path,) = tmp_path.glob("anchor-20261202T001500Z.json")
    (message,) = inbox.to("auditor@example.com")
    assert message["To"] == "auditor@example.com"
    (attached,) = list(message.iter_attachments())
    assert json.loads(attached.get_content()) == json.loads(path.read_text())
    assert anchors.check(anchors.read(path)) == []
