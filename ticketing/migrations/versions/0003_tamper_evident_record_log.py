"""tamper-evident record log: hash chain per case, append-only triggers

Revision ID: 0003
Revises: 0002
"""
import hashlib
import json
from datetime import timezone

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Copied from ticketing/cases/chain.py as it was when this revision was written: a migration is
# history and must not change when the application's code does.
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


def _digest(prev_hash, ticket_id, seq, actor_id, actor_name, action, changes, created_at):
    """The SHA-256 of an event's content and its predecessor's hash (canonical JSON), as chain.digest."""
    content = json.dumps([prev_hash, ticket_id, seq, actor_id, actor_name, action, changes,
                          created_at.isoformat()], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_events_ticket_id_seq', ['ticket_id', 'seq'])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == 'sqlite' else POSTGRES_TRIGGERS:
        op.execute(statement)


def _chain_existing_events():
    """Events written before the chain existed are chained in their original order."""
    conn = op.get_bind()
    events = sa.table('events', sa.column('id'), sa.column('ticket_id'), sa.column('actor_id'),
                      sa.column('actor_name'), sa.column('action'), sa.column('changes', sa.JSON),
                      sa.column('created_at', sa.DateTime(timezone=True)), sa.column('seq'),
                      sa.column('prev_hash'), sa.column('hash'))
    rows = conn.execute(sa.select(events).order_by(events.c.ticket_id, events.c.id)).all()
    last = {}
    for row in rows:
        seq, prev = last.get(row.ticket_id, (0, None))
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
        new_hash = _digest(prev, row.ticket_id, seq + 1, row.actor_id, row.actor_name, row.action,
                           row.changes, created.astimezone(timezone.utc))
        conn.execute(events.update().where(events.c.id == row.id).values(seq=seq + 1, prev_hash=prev, hash=new_hash))
        last[row.ticket_id] = (seq + 1, new_hash)


def downgrade():
    dialect = op.get_bind().dialect.name
    op.execute('DROP TRIGGER IF EXISTS events_no_update' + ('' if dialect == 'sqlite' else ' ON events'))
    op.execute('DROP TRIGGER IF EXISTS events_no_delete' + ('' if dialect == 'sqlite' else ' ON events'))
    if dialect != 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS events_no_truncate ON events')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_events_ticket_id_seq', type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
