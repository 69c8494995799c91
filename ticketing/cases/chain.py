"""Tamper evidence for the record log: a hash chain per case, and a database that refuses
to change or delete log rows.

Each event's hash covers its own content and the previous event's hash, so editing any
event behind the application's back breaks every hash after it; `verify()` names the first.
The chain is per case (not global) so writers on different cases never wait for each other;
appends to one case are serialised by a transaction-level advisory lock on PostgreSQL (on SQLite,
by taking its one write lock before reading the chain's end), and the unique (ticket_id, seq)
constraint makes a fork impossible.
"""

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import DDL, event, select, text

from ticketing.extensions import db

_LOCK_NAMESPACE = 7_311  # advisory locks of the record log: (namespace, ticket id)


def digest(
    prev_hash: str | None, ticket_id: int, seq: int, actor_id, actor_name: str, action: str, changes: dict, created_at
) -> str:
    """The SHA-256 of an event's content and its predecessor's hash (canonical JSON)."""
    content = json.dumps(
        [prev_hash, ticket_id, seq, actor_id, actor_name, action, changes, created_at.isoformat()],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _hash_of(row) -> str:
    return digest(
        row.prev_hash, row.ticket_id, row.seq, row.actor_id, row.actor_name, row.action, row.changes, row.created_at
    )


def link(new_event) -> None:
    """Give `new_event` its place in its case's chain (call before adding it to the session)."""
    Event = type(new_event)
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _LOCK_NAMESPACE, "key": new_event.ticket_id}
        )
    elif dialect == "sqlite":
        # Take the database's write lock before reading the last seq: the driver opens a transaction
        # only at the first write, and a read before it could see a seq another writer is about to
        # take. An UPDATE matching no row locks without changing anything (the append-only triggers
        # fire per row, so never).
        db.session.execute(text("UPDATE events SET seq = seq WHERE 0"))
    last = db.session.execute(
        select(Event.seq, Event.hash).where(Event.ticket_id == new_event.ticket_id).order_by(Event.seq.desc()).limit(1)
    ).first()
    new_event.seq = last.seq + 1 if last else 1
    new_event.prev_hash = last.hash if last else None
    new_event.hash = _hash_of(new_event)


@dataclass
class Break:
    event_id: int
    ticket_id: int
    seq: int
    problem: str


def verify(Event, batch: int = 5000) -> tuple[int, Break | None]:
    """Check every chain of the `Event` table; returns (events checked, the first broken event or None)."""
    checked, previous = 0, None
    query = select(Event).order_by(Event.ticket_id, Event.seq).execution_options(yield_per=batch)
    rows = db.session.scalars(query)
    try:
        for row in rows:
            problem = _problem(row, previous)
            if problem:
                return checked, Break(row.id, row.ticket_id, row.seq, problem)
            checked += 1
            previous = row
    finally:
        rows.close()  # a server-side cursor on PostgreSQL: close it even when stopping early
    return checked, None


def _problem(row, previous) -> str | None:
    first_of_case = previous is None or previous.ticket_id != row.ticket_id
    if row.seq != (1 if first_of_case else previous.seq + 1):
        return "an event is missing before this one"
    if row.prev_hash != (None if first_of_case else previous.hash):
        return "it does not follow the previous event's hash"
    if row.hash != _hash_of(row):
        return "its content does not match its hash"
    return None


# --- the database refuses UPDATE and DELETE on the record log -------------------------------

SQLITE_TRIGGERS = [
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the record log is append-only'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the record log is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the record log is append-only'; END $$",
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only()",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only()",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT "
    "EXECUTE FUNCTION events_append_only()",
]


def protect(table) -> None:
    """Install the triggers whenever the table is created (tests' create_all; migrations run the same SQL)."""
    for statement in SQLITE_TRIGGERS:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in POSTGRES_TRIGGERS:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
