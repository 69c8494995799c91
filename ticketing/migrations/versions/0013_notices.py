"""notices: deliveries per recipient, notice preferences, supervisor scope, revocable portal links,
surveys recorded by staff

Revision ID: 0013_notices
Revises: 0012_precedent_indexes
Create Date: 2026-12-01 17:00:00

A reminder is now fanned out into one delivery per e-mail recipient, each with its own status,
attempts, lease and Message-ID (a refusing mailbox retries alone). Reminders already sent or
pending need no rows: a pending one is fanned out when it is next claimed.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013_notices"
down_revision = "0012_precedent_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reminder_id"], ["reminders.id"], name=op.f("fk_deliveries_reminder_id_reminders")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_deliveries_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("reminder_id", "recipient", "channel", name="uq_deliveries_reminder_id_recipient_channel"),
    )
    op.create_index("ix_deliveries_status_run_at", "deliveries", ["status", "run_at"], unique=False)
    op.create_table(
        "notice_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channels", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notice_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notice_preferences")),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("notice_scope", sa.String(length=20), nullable=False, server_default="escalations"))
    with op.batch_alter_table("portal_access") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("recorded_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_survey_responses_recorded_by_id_users"), "users", ["recorded_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_constraint(op.f("fk_survey_responses_recorded_by_id_users"), type_="foreignkey")
        batch.drop_column("recorded_by_id")
    with op.batch_alter_table("portal_access") as batch:
        batch.drop_column("revoked_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notice_scope")
    op.drop_table("notice_preferences")
    op.drop_index("ix_deliveries_status_run_at", table_name="deliveries")
    op.drop_table("deliveries")
