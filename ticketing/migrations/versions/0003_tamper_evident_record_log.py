"""tamper-evident record log: hash chain per case, append-only triggers

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

from ticketing.cases.chain import POSTGRES_TRIGGERS, SQLITE_TRIGGERS, digest

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


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
    from datetime import timezone
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
        new_hash = digest(prev, row.ticket_id, seq + 1, row.actor_id, row.actor_name, row.action,
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
