"""record triggers: the database refuses to delete records or change what they sealed

Revision ID: 0020_record_triggers
Revises: 0019_security_log
Create Date: 2026-12-01 21:30:00

Every sealed record table (see 0016_record_chain) refuses DELETE and TRUNCATE, and UPDATE of any
column but the few a later action sets (a decision, the customer's answer, an approval: each such
change is sealed by its own event). Installed after the last revision adding columns to these tables,
on the columns they have now; a later revision adding a column must install them again.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_record_triggers"
down_revision = "0019_security_log"
branch_labels = None
depends_on = None

# As they were when this revision was written: each sealed table and the columns it may still change.
MUTABLE = {
    "listen_records": (),
    "apology_records": (),
    "analysis_records": (),
    "resolutions": (
        "state",
        "decided_by_id",
        "decision_reason",
        "customer_reason",
        "carried_out_at",
        "carried_out_note",
    ),
    "compensation_lines": ("approved_by_id", "approved_at"),
    "follow_up_records": (),
    "review_records": ("decision", "decided_by_id", "decided_at", "comments", "return_to", "checklist"),
    "survey_responses": (),
    "attachments": (),
    "messages": (),
    "notes": (),
}


def triggers(table: str, fixed: list[str], dialect: str) -> list[str]:
    """The same SQL as ticketing/cases/chain.py record_triggers() gives, today."""
    columns = ", ".join(fixed)
    if dialect == "sqlite":
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in fixed)
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {columns} ON {table} WHEN {changed} "
            "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END",
        ]
    return [
        "CREATE OR REPLACE FUNCTION records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'records are append-only'; END $$",
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {columns} ON {table} FOR EACH ROW "
        f"WHEN (({', '.join(f'OLD.{c}::text' for c in fixed)}) IS DISTINCT FROM "
        f"({', '.join(f'NEW.{c}::text' for c in fixed)})) EXECUTE FUNCTION records_append_only()",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW "
        "EXECUTE FUNCTION records_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT "
        "EXECUTE FUNCTION records_append_only()",
    ]


def upgrade():
    conn = op.get_bind()
    inspector = sa.inspect(conn)
    for table, mutable in MUTABLE.items():
        fixed = [column["name"] for column in inspector.get_columns(table) if column["name"] not in mutable]
        for statement in triggers(table, fixed, conn.dialect.name):
            op.execute(statement)


def downgrade():
    conn = op.get_bind()
    for table in MUTABLE:
        for name in ("no_update", "no_delete", "no_truncate"):
            if conn.dialect.name == "postgresql":
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}")
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{name}")
