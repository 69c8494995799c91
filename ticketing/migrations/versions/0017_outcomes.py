"""outcomes: churn types and causes, customers judged lost or at risk

Revision ID: 0017_outcomes
Revises: 0016_record_chain
Create Date: 2026-12-01 21:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_outcomes"
down_revision = "0016_record_chain"
branch_labels = None
depends_on = None


# Enums are stored as plain strings without a check constraint (ticketing/types.py enum_type), so the
# new churn types need no schema change; the cause is a new column of the same kind.
CHURN_CAUSES = (
    "management",
    "product",
    "price",
    "promotion",
    "no_innovation",
    "company_turmoil",
    "overbearing",
    "unkept_promises",
    "political",
    "other",
)


def upgrade():
    with op.batch_alter_table("follow_up_records", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "churn_cause",
                sa.Enum(*CHURN_CAUSES, name="churncause", native_enum=False, length=32),
                nullable=True,
            )
        )


def downgrade():
    with op.batch_alter_table("follow_up_records", schema=None) as batch_op:
        batch_op.drop_column("churn_cause")
