"""audit verify: where the last check ended

Revision ID: 0022_verify_checkpoints
Revises: 0021_auth_hardening
Create Date: 2026-12-02 01:00:00

One row per intact `flask audit verify` (full, or since the previous one): the log's end it saw —
the last event's id, case, number and seal, how many events there were up to it, the last case and
the last row of every sealed table — so `audit verify --since-last` checks only what came after
(ticketing/cases/checkpoints.py). Nothing to fill: the first full check writes the first row.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_verify_checkpoints"
down_revision = "0021_auth_hardening"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "verify_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("through_event_id", sa.Integer(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("head_ticket_id", sa.Integer(), nullable=True),
        sa.Column("head_seq", sa.Integer(), nullable=True),
        sa.Column("head_hash", sa.String(length=64), nullable=True),
        sa.Column("last_ticket_id", sa.Integer(), nullable=False),
        sa.Column("record_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_checkpoints")),
    )


def downgrade():
    op.drop_table("verify_checkpoints")
