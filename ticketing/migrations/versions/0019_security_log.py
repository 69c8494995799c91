"""security log: a chained log of logins, users, tokens and settings

Revision ID: 0019_security_log
Revises: 0018_four_eyes
Create Date: 2026-12-01 21:00:00

Logins (failed ones too), logouts, password, role and account changes, API tokens, reply templates,
settings and catalogue edits and exports left no history outside the application log. They get a
table of their own: one global chain (seq, the previous entry's hash, a keyed seal), which the
database keeps append-only as it does the record log.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_security_log"
down_revision = "0018_four_eyes"
branch_labels = None
depends_on = None

# Copied from ticketing/auth/security_log.py as it was when this revision was written: a migration is
# history and must not change when the application's code does.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER security_log_no_update BEFORE UPDATE ON security_log "
    "BEGIN SELECT RAISE(ABORT, 'the security log is append-only'); END",
    "CREATE TRIGGER security_log_no_delete BEFORE DELETE ON security_log "
    "BEGIN SELECT RAISE(ABORT, 'the security log is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION security_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the security log is append-only'; END $$",
    "CREATE TRIGGER security_log_no_update BEFORE UPDATE ON security_log "
    "FOR EACH ROW EXECUTE FUNCTION security_log_append_only()",
    "CREATE TRIGGER security_log_no_delete BEFORE DELETE ON security_log "
    "FOR EACH ROW EXECUTE FUNCTION security_log_append_only()",
    "CREATE TRIGGER security_log_no_truncate BEFORE TRUNCATE ON security_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION security_log_append_only()",
]


def upgrade():
    op.create_table(
        "security_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=True),
        sa.Column("subject_id", sa.String(length=80), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_security_log_seq")),
    )
    op.create_index("ix_security_log_created_at", "security_log", ["created_at"], unique=False)
    op.create_index(op.f("ix_security_log_actor_id"), "security_log", ["actor_id"], unique=False)
    op.create_index(op.f("ix_security_log_kind"), "security_log", ["kind"], unique=False)
    op.create_index(op.f("ix_security_log_account_id"), "security_log", ["account_id"], unique=False)
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS:
        op.execute(statement)


def downgrade():
    # Dropping the table drops its triggers; the PostgreSQL function is the table's alone.
    op.drop_table("security_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS security_log_append_only()")
