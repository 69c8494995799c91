"""reports: long Insight reports worked out by the scheduler, kept with the time of their figures

The dashboard for a long period, the at-risk list and its export, and the team page over a year read
hundreds of thousands of cases on a large desk: seconds of work that held one of the web workers (and
every agent's queue behind it). Above a size they are worked out by the scheduler instead, and the
page shows the latest result with the time its figures were read.

Revision ID: 0027_report_snapshots
Revises: 0026_desk_speed
Create Date: 2026-12-02 15:30:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027_report_snapshots"
down_revision = "0026_desk_speed"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.UniqueConstraint("kind", "key", name="uq_report_snapshots_kind_key"),
    )
    op.create_index("ix_report_snapshots_status_requested_at", "report_snapshots", ["status", "requested_at"])


def downgrade():
    op.drop_index("ix_report_snapshots_status_requested_at", table_name="report_snapshots")
    op.drop_table("report_snapshots")
