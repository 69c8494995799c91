"""mail: complaints and replies read from intake mailboxes over IMAP, each mail kept and filed once

`mailboxes` keeps how far each mailbox was read (its UIDVALIDITY and the last UID filed); `inbound_mails`
every mail read, whole, with what became of it. One mail is one row: its identity is unique per mailbox.

Revision ID: 0028_mail_intake
Revises: 0027_report_snapshots
Create Date: 2026-12-02 16:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_mail_intake"
down_revision = "0027_report_snapshots"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_table(
        "inbound_mails",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mailbox_id", sa.Integer(), sa.ForeignKey("mailboxes.id"), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("identity", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(250), nullable=True),
        sa.Column("sender", sa.String(254), nullable=True),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column("message_row_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("mailbox_id", "identity", name="uq_inbound_mails_mailbox_id_identity"),
    )
    op.create_index("ix_inbound_mails_outcome_received_at", "inbound_mails", ["outcome", "received_at"])
    op.create_index("ix_inbound_mails_sender_received_at", "inbound_mails", ["sender", "received_at"])


def downgrade():
    op.drop_index("ix_inbound_mails_sender_received_at", table_name="inbound_mails")
    op.drop_index("ix_inbound_mails_outcome_received_at", table_name="inbound_mails")
    op.drop_table("inbound_mails")
    op.drop_table("mailboxes")
