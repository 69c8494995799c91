"""auth hardening: how long a login lasts, as desk settings

Revision ID: 0021_auth_hardening
Revises: 0020_record_triggers
Create Date: 2026-12-01 22:00:00

Two settings join the desk's own rules, in an admins-only section ("Logins"): a login ends after
session_idle_minutes without a request and session_max_hours after it began (auth/sessions.py).
Seeded as rows like every other setting (0014, 0018), with the values written out here as this
migration found them, so the settings page's history starts from them. The per-account login
throttle needs no table: it counts in the rate limiter's storage.
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_auth_hardening"
down_revision = "0020_record_triggers"
branch_labels = None
depends_on = None

SEED = {
    "session_idle_minutes": 30,
    "session_max_hours": 12,
}

settings = sa.table(
    "desk_settings",
    sa.column("key", sa.String(60)),
    sa.column("value", sa.JSON()),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def upgrade():
    now = datetime.now(timezone.utc)
    op.bulk_insert(settings, [{"key": key, "value": value, "updated_at": now} for key, value in SEED.items()])
    op.execute(sa.text("UPDATE settings_version SET version = version + 1 WHERE id = 1"))


def downgrade():
    op.execute(settings.delete().where(settings.c.key.in_(list(SEED))))
    op.execute(sa.text("UPDATE settings_version SET version = version + 1 WHERE id = 1"))
