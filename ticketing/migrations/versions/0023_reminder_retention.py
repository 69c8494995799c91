"""reminders: dispatcher batches and retention

Revision ID: 0023_reminder_retention
Revises: 0022_verify_checkpoints
Create Date: 2026-12-02 01:00:00

One setting joins the desk's rules, in the "Timing" section: sent and cancelled reminder rows older
than reminder_retention_days are removed by a daily scheduler job (scheduling/retention.py), in short
batches; in-app notices keep their text (their link to the removed row is cleared), reminders with a
delivery are kept with it, and the record log is not touched. Seeded as a row like every other
setting (0014, 0021), from the environment (REMINDER_RETENTION_DAYS, 90 when unset) as this migration
found it. The dispatcher's batches need no schema change.
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = "0023_reminder_retention"
down_revision = "0022_verify_checkpoints"
branch_labels = None
depends_on = None

KEY = "reminder_retention_days"

settings = sa.table(
    "desk_settings",
    sa.column("key", sa.String(60)),
    sa.column("value", sa.JSON()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade():
    days = int(current_app.config.get("REMINDER_RETENTION_DAYS", 90))
    op.bulk_insert(settings, [{"key": KEY, "value": days, "updated_at": datetime.now(timezone.utc)}])
    op.execute(sa.text("UPDATE settings_version SET version = version + 1 WHERE id = 1"))


def downgrade():
    op.execute(settings.delete().where(settings.c.key == KEY))
    op.execute(sa.text("UPDATE settings_version SET version = version + 1 WHERE id = 1"))
