"""insight: indexes that follow the cohort

The customers-at-risk and team pages read the cases of a period (closed since, answered since,
decided since), not the history: the cases closed in a period with the team page's columns, the
survey answers by when they came, the supervisors' review decisions by when they were made. The
score of a customer at risk asks each open or recent case about its records (angry at intake, a
proposal rejected, a low rating): indexes leading with ticket_id that hold the column asked about
answer it without reading the record. The early warnings count the last nine weeks' complaints by
category and product from an index holding those columns.

Revision ID: 0024_insight_cohorts
Revises: 0023_reminder_retention
Create Date: 2026-12-02 01:00:00
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_insight_cohorts"
down_revision = "0023_reminder_retention"
branch_labels = None
depends_on = None


INDEXES = (
    ("ix_tickets_status_closed_at", "tickets", ["status", "closed_at", "assignee_id", "created_at"]),
    ("ix_tickets_created_at_category", "tickets", ["created_at", "category", "product_id", "merged_into_id"]),
    ("ix_survey_responses_created_at", "survey_responses", ["created_at"]),
    ("ix_review_records_decided_at", "review_records", ["decided_at"]),
    ("ix_listen_records_ticket_id_emotion", "listen_records", ["ticket_id", "emotion"]),
    ("ix_resolutions_ticket_id_state", "resolutions", ["ticket_id", "state"]),
    ("ix_follow_up_records_ticket_id_outcome", "follow_up_records", ["ticket_id", "outcome", "satisfaction"]),
    ("ix_survey_responses_ticket_id_satisfaction", "survey_responses", ["ticket_id", "satisfaction"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # The planner's statistics for the new indexes (PostgreSQL's autovacuum gathers its own).
        for table in sorted({table for _name, table, _columns in INDEXES}):
            op.execute(f"ANALYZE {table}")


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
