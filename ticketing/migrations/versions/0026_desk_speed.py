"""desk: the team queue read from an index a page at a time

The team queue shows one status (open by default) in the order chosen: due date, newest, oldest,
priority or last update. Without an index that starts with the status, every open case was joined
to its customer and assignee and sorted to show 25 of them (130 ms at 100,000 cases, 8,000 open).

Revision ID: 0026_desk_speed
Revises: 0025_daily_figures
Create Date: 2026-12-02 01:00:00
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_desk_speed"
down_revision = "0025_daily_figures"
branch_labels = None
depends_on = None


QUEUE_ORDERS = ("resolution_due_at", "created_at", "priority_rank", "updated_at")


def upgrade():
    for column in QUEUE_ORDERS:
        op.create_index(f"ix_tickets_status_{column}_id", "tickets", ["status", column, "id"])


def downgrade():
    for column in QUEUE_ORDERS:
        op.drop_index(f"ix_tickets_status_{column}_id", table_name="tickets")
