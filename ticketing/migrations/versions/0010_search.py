"""search documents: one per case and per customer, with the database's own text index

Revision ID: 0010_search
Revises: 0009
Create Date: 2026-12-01 14:00:00

SQLite: FTS5 (trigram tokenizer) over the document tables, kept by triggers. PostgreSQL: pg_trgm
GIN indexes. The documents of existing cases and customers are written here; the way they are
written is copied from ticketing/cases/search (documents.py, text.py) as it was when this revision
was made, because a migration must not change when the application does.
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0010_search"
down_revision = "0009"
branch_labels = None
depends_on = None

CASE_COLUMNS = ("public_text", "notes_text", "short_public", "short_notes")
CUSTOMER_COLUMNS = ("contact_text", "short_contact")
TABLES = {
    "case_search": ("case_search_fts", "ticket_id", CASE_COLUMNS),
    "customer_search": ("customer_search_fts", "customer_id", CUSTOMER_COLUMNS),
}
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
_WORD = re.compile(r"[^\W_]+")


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "case_search",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in CASE_COLUMNS),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_case_search_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_case_search")),
    )
    op.create_table(
        "customer_search",
        sa.Column("customer_id", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in CUSTOMER_COLUMNS),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_search_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_search")),
    )
    _write_documents(op.get_bind())
    for table, (fts, key, columns) in TABLES.items():
        if sqlite:
            for statement in _sqlite_ddl(table, fts, key, columns):
                op.execute(statement)
            op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        else:
            for name in columns:
                op.create_index(
                    f"ix_{table}_{name}", table, [name], postgresql_using="gin", postgresql_ops={name: "gin_trgm_ops"}
                )


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, (fts, _key, columns) in TABLES.items():
        if sqlite:
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        else:
            for name in columns:
                op.drop_index(f"ix_{table}_{name}", table_name=table)
        op.drop_table(table)


def _sqlite_ddl(table, fts, key, columns):
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    remove = f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.{key}, {old});"
    add = f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.{key}, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content='{table}', content_rowid='{key}', "
        "tokenize='trigram')",
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE ON {table} BEGIN {remove} {add} END",
    ]


def _fold(text):
    return unicodedata.normalize("NFKC", text or "").casefold()


def _short_terms(folded):
    terms = set()
    for run in _UNSPACED.findall(folded):
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    terms.update(word for word in _WORD.findall(folded) if len(word) == 2)
    return f" {' '.join(sorted(terms))} " if terms else ""


def _contact(name, email, phone, phone_digits, external_id):
    digits = phone_digits or re.sub(r"\D", "", phone or "")
    return "\n".join(part for part in (name, email, digits, external_id) if part)


def _write_documents(connection):
    customers = []
    for row in connection.execute(sa.text("SELECT id, name, email, phone, phone_digits, external_id FROM customers")):
        contact = _fold(_contact(*row[1:]))
        customers.append({"customer_id": row[0], "contact_text": contact, "short_contact": _short_terms(contact)})
    bodies = {"messages": {}, "notes": {}}
    for kind, found in bodies.items():
        for ticket_id, body in connection.execute(sa.text(f"SELECT ticket_id, body FROM {kind} ORDER BY id")):
            found.setdefault(ticket_id, []).append(body)
    cases = []
    query = sa.text(
        "SELECT t.id, t.reference, c.name, c.email, c.phone, c.phone_digits, c.external_id, t.subject, "
        "t.description, t.product, t.customer_expectation FROM tickets t JOIN customers c ON c.id = t.customer_id"
    )
    for row in connection.execute(query):
        parts = (row[1].rsplit("-", 1)[-1], _contact(*row[2:7]), *row[7:], *bodies["messages"].get(row[0], ()))
        public = _fold("\n".join(part for part in parts if part))
        internal = _fold("\n".join(bodies["notes"].get(row[0], ())))
        cases.append(
            {
                "ticket_id": row[0],
                "public_text": public,
                "notes_text": internal,
                "short_public": _short_terms(public),
                "short_notes": _short_terms(internal),
            }
        )
    if customers:
        connection.execute(sa.text("INSERT INTO customer_search VALUES (:customer_id, :contact_text, :short_contact)"), customers)
    if cases:
        connection.execute(
            sa.text("INSERT INTO case_search VALUES (:ticket_id, :public_text, :notes_text, :short_public, :short_notes)"),
            cases,
        )
