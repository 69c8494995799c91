"""four eyes and fair offers: one-person desk, proportionality settings

Revision ID: 0018_four_eyes
Revises: 0017_outcomes
Create Date: 2026-12-01 21:00:00

Three settings join the desk's own rules, in an admins-only section: whether one person may handle
and approve a case alone (no: four eyes), and when an offer is in proportion to the customer's loss —
the estimated loss times a factor per responsibility, or a small amount when no loss is entered.
Seeded as rows like every other setting (0014), with the values written out here as this migration
found them, so the settings page's history starts from them.
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_four_eyes"
down_revision = "0017_outcomes"
branch_labels = None
depends_on = None

SEED = {
    "one_person_desk": False,
    "proportion_factors": {"company": 2.0, "shared": 1.0, "third_party": 1.0, "customer": 0.5},
    "proportion_no_loss_amount": "100.00",
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
