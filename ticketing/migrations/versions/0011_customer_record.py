"""the customer's record: version, last change, merged records, and the history of changes

Revision ID: 0011_customer_record
Revises: 0010_search
Create Date: 2026-12-01 15:00:00

Columns are only added to `customers`, never by copying the table: on SQLite, batch mode's copy
drops the old table, and with foreign keys on that deletes or refuses every row pointing at it
(cases, win-back actions, search documents). SQLite cannot add a foreign key by ALTER, but a new
column may carry its REFERENCES clause, so those two columns are added in SQLite's own words.
Existing customers start at version 1, never changed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_customer_record'
down_revision = '0010_search'
branch_labels = None
depends_on = None

REFERENCES = {  # column -> (constraint name, referred table)
    'updated_by_id': ('fk_customers_updated_by_id_users', 'users'),
    'merged_into_id': ('fk_customers_merged_into_id_customers', 'customers'),
}


def upgrade():
    op.create_table('customer_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_customer_events_actor_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_events_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_events'))
    )
    op.create_index(op.f('ix_customer_events_customer_id'), 'customer_events', ['customer_id'], unique=False)

    sqlite = op.get_bind().dialect.name == 'sqlite'
    # The default fills the existing rows; the application always writes the version itself.
    op.add_column('customers', sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
    op.add_column('customers', sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    for column, (name, table) in REFERENCES.items():
        if sqlite:
            op.execute(f'ALTER TABLE customers ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES {table} (id)')
        else:
            op.add_column('customers', sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(name, 'customers', table, [column], ['id'])
    if not sqlite:  # SQLite keeps the default: removing it would mean copying the table
        op.alter_column('customers', 'version', existing_type=sa.Integer(), server_default=None)
    op.create_index(op.f('ix_customers_merged_into_id'), 'customers', ['merged_into_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_customers_merged_into_id'), table_name='customers')
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for column, (name, _table) in REFERENCES.items():
        if not sqlite:
            op.drop_constraint(name, 'customers', type_='foreignkey')
        op.drop_column('customers', column)  # SQLite (3.35+) drops a column with its own REFERENCES
    op.drop_column('customers', 'updated_at')
    op.drop_column('customers', 'version')
    op.drop_index(op.f('ix_customer_events_customer_id'), table_name='customer_events')
    op.drop_table('customer_events')
