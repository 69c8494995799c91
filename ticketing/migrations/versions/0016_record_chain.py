"""record chain: keyed seals, and every record sealed by the event that wrote it

Revision ID: 0016_record_chain
Revises: 0015_catalogues
Create Date: 2026-12-01 21:00:00

Until now each event's hash was a plain SHA-256 of the event alone: anyone able to write the database
could rewrite history and recompute it, and the step records, messages and survey answers were not
covered at all. This revision
- checks the whole log as it stands (plain SHA-256 chains) and stops, changing nothing, if it is broken;
- seals every event again with the audit key (HMAC-SHA256, the key from AUDIT_KEYS or the key file,
  never the database), each event naming the key (events.key_id), chained as before;
- keeps each attachment's SHA-256 (attachments.sha256) for the files still stored;
- appends one "records_sealed" event to every case that has records, holding a snapshot of each of
  them as they stand now: from here on, any change to a record behind the application's back shows.
The append-only triggers of the record tables are installed by 0020_record_triggers, after the last
revision that adds their columns.
"""

import hashlib
import hmac
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = "0016_record_chain"
down_revision = "0015_catalogues"
branch_labels = None
depends_on = None

# As they were when this revision was written (a migration must not change when the code does):
# the sealed tables, with the parent through which a row names its case when it has no ticket_id.
SEALED = {
    "listen_records": None,
    "apology_records": None,
    "analysis_records": None,
    "resolutions": None,
    "compensation_lines": ("resolutions", "resolution_id"),
    "follow_up_records": None,
    "review_records": None,
    "survey_responses": None,
    "attachments": None,
    "messages": None,
    "notes": None,
}
SQLITE_EVENTS_NO_UPDATE = (
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the record log is append-only'); END"
)


def _canonical(content) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _utc(value: datetime) -> datetime:
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _plain(value, column_type):
    """A column's value as the application's snapshots write it (ticketing/cases/chain.py, today)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    numeric = isinstance(column_type, sa.Numeric) and column_type.scale is not None
    if numeric and isinstance(value, (Decimal, float, int)) and not isinstance(value, bool):
        return format(Decimal(str(value)).quantize(Decimal(1).scaleb(-column_type.scale)), "f")
    if isinstance(value, Decimal):
        return str(value)
    return value


def upgrade():
    op.add_column("events", sa.Column("records", sa.JSON(), nullable=True))
    op.add_column("events", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("attachments", sa.Column("sha256", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    keys = current_app.extensions["audit_keys"]
    secret = keys.keys[keys.current]

    def seal(content) -> str:
        return hmac.new(secret, _canonical(content), hashlib.sha256).hexdigest()

    heads = _reseal_events(conn, keys.current, seal)
    _hash_stored_files(conn)
    _seal_records(conn, keys.current, seal, heads)


def _events_table():
    return sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("ticket_id", sa.Integer),
        sa.column("actor_id", sa.Integer),
        sa.column("actor_name", sa.String),
        sa.column("action", sa.String),
        sa.column("changes", sa.JSON),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("seq", sa.Integer),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
        sa.column("records", sa.JSON),
        sa.column("key_id", sa.String),
    )


def _reseal_events(conn, key_id, seal) -> dict:
    """Check the plain chains and seal them with the key; returns {ticket id: (last seq, its seal)}."""
    events = _events_table()
    rows = conn.execute(sa.select(events).order_by(events.c.ticket_id, events.c.seq)).fetchall()
    heads: dict[int, tuple[int, str]] = {}
    sealed_rows = []
    previous = None
    for row in rows:
        first = previous is None or previous.ticket_id != row.ticket_id
        created = _utc(row.created_at).isoformat()
        old = [row.prev_hash, row.ticket_id, row.seq, row.actor_id, row.actor_name, row.action, row.changes, created]
        if (
            row.seq != (1 if first else previous.seq + 1)
            or row.prev_hash != (None if first else previous.hash)
            or row.hash != hashlib.sha256(_canonical(old)).hexdigest()
        ):
            raise RuntimeError(
                f"The record log is broken at event {row.id} (ticket id {row.ticket_id}, event #{row.seq}): "
                "it cannot be sealed as it is. Nothing was changed; find out what happened to it first "
                "(`flask audit verify` on the previous version names it)."
            )
        prev_seal = None if first else heads[row.ticket_id][1]
        content = [prev_seal, row.ticket_id, row.seq, row.actor_id, row.actor_name, row.action, row.changes]
        new = seal([*content, created, None])
        heads[row.ticket_id] = (row.seq, new)
        sealed_rows.append({"event_id": row.id, "prev": prev_seal, "seal": new})
        previous = row
    if not sealed_rows:
        return heads
    dialect = conn.dialect.name
    if dialect == "postgresql":
        op.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
    else:
        op.execute("DROP TRIGGER events_no_update")
    conn.execute(
        events.update()
        .where(events.c.id == sa.bindparam("event_id"))
        .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("seal"), key_id=key_id),
        sealed_rows,
    )
    if dialect == "postgresql":
        op.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")
    else:
        op.execute(SQLITE_EVENTS_NO_UPDATE)
    return heads


def _hash_stored_files(conn) -> None:
    folder = Path(current_app.config["UPLOAD_DIR"])
    files = sa.table("attachments", sa.column("id", sa.Integer), sa.column("stored_name"), sa.column("sha256"))
    for row in conn.execute(sa.select(files.c.id, files.c.stored_name)).fetchall():
        path = folder / row.stored_name
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            conn.execute(files.update().where(files.c.id == row.id).values(sha256=digest))


def _seal_records(conn, key_id, seal, heads) -> None:
    """One "records_sealed" event per case with records: a snapshot of each of them, as they stand."""
    metadata = sa.MetaData()
    snapshots: dict[int, dict] = {}
    for name, parent in SEALED.items():
        table = sa.Table(name, metadata, autoload_with=conn)
        if parent is None:
            query = sa.select(table.c.ticket_id.label("case_id"), table)
        else:
            parent_table = sa.Table(parent[0], metadata, autoload_with=conn)
            query = sa.select(parent_table.c.ticket_id.label("case_id"), table).join(
                parent_table, table.c[parent[1]] == parent_table.c.id
            )
        for row in conn.execute(query).mappings():
            values = {column.name: _plain(row[column.name], column.type) for column in table.columns}
            values.pop("id")
            snapshots.setdefault(row["case_id"], {})[f"{name}:{row['id']}"] = values
    events = _events_table()
    now = datetime.now(timezone.utc)
    for ticket_id, records in sorted(snapshots.items()):
        last_seq, last_seal = heads.get(ticket_id, (0, None))
        changes = {"records": [None, len(records)]}
        content = [last_seal, ticket_id, last_seq + 1, None, "system", "records_sealed", changes, now.isoformat()]
        conn.execute(
            events.insert().values(
                ticket_id=ticket_id,
                actor_id=None,
                actor_name="system",
                action="records_sealed",
                changes=changes,
                created_at=now,
                seq=last_seq + 1,
                prev_hash=last_seal,
                records=records,
                key_id=key_id,
                hash=seal([*content, records]),
            )
        )


def downgrade():
    """Back to plain SHA-256 chains, as revision 0003 wrote them: the upgrade's "records_sealed" events
    go, and every remaining event is hashed again without the key (checked with it first)."""
    conn = op.get_bind()
    keys = current_app.extensions["audit_keys"]
    events = _events_table()
    for row in conn.execute(sa.select(events)).fetchall():
        created = _utc(row.created_at).isoformat()
        content = [row.prev_hash, row.ticket_id, row.seq, row.actor_id, row.actor_name, row.action, row.changes]
        secret = keys.keys.get(row.key_id)
        expected = secret and hmac.new(secret, _canonical([*content, created, row.records]), hashlib.sha256)
        if not expected or not hmac.compare_digest(expected.hexdigest(), row.hash):
            raise RuntimeError(
                f"Event {row.id} (ticket id {row.ticket_id}, event #{row.seq}) does not match its seal: "
                "nothing was changed; `flask audit verify` names what happened to the log."
            )
    dialect = conn.dialect.name
    for name in ("events_no_update", "events_no_delete"):
        op.execute(f"ALTER TABLE events DISABLE TRIGGER {name}" if dialect == "postgresql" else f"DROP TRIGGER {name}")
    conn.execute(events.delete().where(events.c.action == "records_sealed"))
    previous = None
    for row in conn.execute(sa.select(events).order_by(events.c.ticket_id, events.c.seq)).fetchall():
        first = previous is None or previous[0] != row.ticket_id
        prev_hash = None if first else previous[1]
        created = _utc(row.created_at).isoformat()
        content = [prev_hash, row.ticket_id, row.seq, row.actor_id, row.actor_name, row.action, row.changes, created]
        digest = hashlib.sha256(_canonical(content)).hexdigest()
        conn.execute(events.update().where(events.c.id == row.id).values(prev_hash=prev_hash, hash=digest))
        previous = (row.ticket_id, digest)
    if dialect == "postgresql":
        op.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")
        op.execute("ALTER TABLE events ENABLE TRIGGER events_no_delete")
    else:
        op.execute(SQLITE_EVENTS_NO_UPDATE)
        op.execute(SQLITE_EVENTS_NO_UPDATE.replace("no_update BEFORE UPDATE", "no_delete BEFORE DELETE"))
    op.drop_column("attachments", "sha256")
    op.drop_column("events", "key_id")
    op.drop_column("events", "records")
