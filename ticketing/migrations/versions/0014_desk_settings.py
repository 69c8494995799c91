"""desk settings: the desk's own rules in the database, seeded from the environment

Revision ID: 0014_desk_settings
Revises: 0013_notices
Create Date: 2026-12-01 18:00:00

Deadlines, the business calendar, compensation limits and currency, the service guarantee and the
timing of follow-ups and reviews were Python literals and environment strings read at start. They
become rows edited on the settings page. Each setting starts as the environment (the app's config
at upgrade time) gave it, so upgrading changes nothing until someone changes a setting.
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = "0014_desk_settings"
down_revision = "0013_notices"
branch_labels = None
depends_on = None


def _seed(config) -> dict:
    """Today's environment values, written out as this migration found them (it must not change
    when the application's code does)."""
    hours = config.get("BUSINESS_HOURS")
    days = [int(d) for d in config.get("BUSINESS_DAYS", range(7))]
    business = None
    if hours:
        opens, closes = (part.strip() for part in hours.split("-"))
        opens, closes = (f"{int(t.split(':')[0]):02d}:{int((t.split(':') + ['0'])[1]):02d}" for t in (opens, closes))
        business = {str(day): ([opens, closes] if day in days else None) for day in range(7)}
    return {
        "deadline_hours": {k: [float(h) for h in v] for k, v in config["DEADLINE_HOURS"].items()},
        "category_deadline_hours": {
            k: [float(h) for h in v] for k, v in config.get("CATEGORY_DEADLINE_HOURS", {}).items()
        },
        "business_hours": business,
        "holidays": sorted({d.strip() for d in config.get("HOLIDAYS", []) if d.strip()}),
        "workdays": [],
        "compensation_limits": {k: f"{float(v):.2f}" for k, v in config["COMPENSATION_LIMITS"].items()},
        "currency": config["DEFAULT_CURRENCY"].upper(),
        "service_guarantee": {
            k: [[kind, f"{float(amount):.2f}" if amount is not None else None] for kind, amount in v]
            for k, v in config["SERVICE_GUARANTEE"].items()
        },
        "follow_up_delay_hours": float(config["FOLLOW_UP_DELAY_HOURS"]),
        "review_delay_hours": float(config["REVIEW_DELAY_HOURS"]),
        "promise_warning_hours": float(config["PROMISE_WARNING_HOURS"]),
        "at_risk_fraction": float(config["AT_RISK_FRACTION"]),
        "reopen_days": int(config["REOPEN_DAYS"]),
        "digest_hour": int(config["DIGEST_HOUR"]),
        "auto_escalate_on_breach": bool(config.get("AUTO_ESCALATE_ON_BREACH", False)),
    }


def upgrade():
    settings = op.create_table(
        "desk_settings",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_desk_settings_updated_by_id_users")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_desk_settings")),
    )
    op.create_table(
        "setting_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["changed_by_id"], ["users.id"], name=op.f("fk_setting_changes_changed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setting_changes")),
    )
    op.create_index(op.f("ix_setting_changes_key"), "setting_changes", ["key"], unique=False)
    version = op.create_table(
        "settings_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings_version")),
    )
    now = datetime.now(timezone.utc)
    seed = _seed(current_app.config)
    op.bulk_insert(settings, [{"key": key, "value": value, "updated_at": now} for key, value in seed.items()])
    op.bulk_insert(version, [{"id": 1, "version": 1}])


def downgrade():
    op.drop_table("settings_version")
    op.drop_index(op.f("ix_setting_changes_key"), table_name="setting_changes")
    op.drop_table("setting_changes")
    op.drop_table("desk_settings")
