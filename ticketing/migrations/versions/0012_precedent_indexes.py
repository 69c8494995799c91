"""precedent indexes: the latest closed cases of a category, of a product

Revision ID: 0012_precedent_indexes
Revises: 0011_customer_record
Create Date: 2026-12-01 16:00:00

The precedents panel (ticketing/cases/precedents.py) reads the latest few hundred closed cases of a
category or of a product, newest first; these indexes let it walk them in closed_at order and stop
at its limit, so its cost does not grow with the cases stored (about 1.3 s without them with
1,000,000 cases on SQLite, tens of milliseconds with them). No index on (status, closed_at): with
one, PostgreSQL walks it and filters the category instead (three times slower).
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0012_precedent_indexes"
down_revision = "0011_customer_record"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_tickets_category_status_closed_at": ["category", "status", "closed_at"],
    "ix_tickets_product_status_closed_at": ["product", "status", "closed_at"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "tickets", columns, unique=False)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="tickets")
