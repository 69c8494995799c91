"""One search document per case and per customer, kept in step with the rows it is read from.

A case's document holds what a caller or a colleague might type to find it: the reference number, the
customer's name, e-mail and phone (as stored, as digits, and as dialled at home), the subject,
description, product, the customer's expectation and every message; internal notes go in a column
of their own, so a search on the customer's behalf can leave them out. Each text also has its
two-character terms (text.short_terms), which the trigram indexes cannot find.

Documents are rewritten after every flush that changes what they are read from, on the flush's own
connection: a case and its document commit together or not at all. `rebuild` writes them all again
(the `flask search rebuild` command and the migration that introduced them).

The indexes are the database's own:
- SQLite: an FTS5 table with the trigram tokenizer over the document table (external content),
  kept by triggers. Trigrams need no word boundaries, so Chinese substrings are found.
- PostgreSQL: pg_trgm GIN indexes on the text columns, which answer LIKE '%…%' (trigrams rather
  than tsvector, because a tsvector needs words and Chinese has no spaces between them).
"""

import re
from itertools import chain, islice

from sqlalchemy import DDL, ForeignKey, Index, Text, delete, event, insert, inspect, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ticketing.cases.models import Customer, Message, Note, Ticket
from ticketing.cases.search.text import fold, short_terms
from ticketing.extensions import db

BATCH = 1000


class CaseDocument(db.Model):
    __tablename__ = "case_search"
    __table_args__ = tuple(
        Index(f"ix_case_search_{name}", name, postgresql_using="gin", postgresql_ops={name: "gin_trgm_ops"}).ddl_if(
            dialect="postgresql"
        )
        for name in ("public_text", "notes_text", "short_public", "short_notes")
    )

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    public_text: Mapped[str] = mapped_column(Text, default="")
    notes_text: Mapped[str] = mapped_column(Text, default="")
    short_public: Mapped[str] = mapped_column(Text, default="")
    short_notes: Mapped[str] = mapped_column(Text, default="")


class CustomerDocument(db.Model):
    __tablename__ = "customer_search"
    __table_args__ = tuple(
        Index(f"ix_customer_search_{name}", name, postgresql_using="gin", postgresql_ops={name: "gin_trgm_ops"}).ddl_if(
            dialect="postgresql"
        )
        for name in ("contact_text", "short_contact")
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    contact_text: Mapped[str] = mapped_column(Text, default="")
    short_contact: Mapped[str] = mapped_column(Text, default="")


# --- the SQLite full-text tables: FTS5 over the document tables, kept by triggers ---------------

FTS_TABLES = {
    "case_search": ("case_search_fts", "ticket_id"),
    "customer_search": ("customer_search_fts", "customer_id"),
}


def sqlite_ddl(table: str) -> list[str]:
    """The FTS5 table over `table` and the triggers that keep it in step (also run by the migration)."""
    fts, key = FTS_TABLES[table]
    listed = ", ".join(_text_columns(table))
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({listed}, content='{table}', content_rowid='{key}', "
        "tokenize='trigram')",
        *sqlite_triggers(table),
    ]


def sqlite_triggers(table: str) -> list[str]:
    fts, key = FTS_TABLES[table]
    columns = _text_columns(table)
    listed = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    remove = f"INSERT INTO {fts}({fts}, rowid, {listed}) VALUES ('delete', old.{key}, {old});"
    add = f"INSERT INTO {fts}(rowid, {listed}) VALUES (new.{key}, {new});"
    return [
        f"CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER {table}_au AFTER UPDATE ON {table} BEGIN {remove} {add} END",
    ]


def _text_columns(table: str) -> list[str]:
    model = CaseDocument if table == "case_search" else CustomerDocument
    return [c.name for c in model.__table__.columns if not c.primary_key]


for _model in (CaseDocument, CustomerDocument):
    _table = _model.__table__
    event.listen(
        _table, "before_create", DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql")
    )
    for _statement in sqlite_ddl(_table.name):
        event.listen(_table, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
    event.listen(
        _table, "before_drop", DDL(f"DROP TABLE IF EXISTS {FTS_TABLES[_table.name][0]}").execute_if(dialect="sqlite")
    )


# --- what the documents say -------------------------------------------------------------------


def reference_number(reference: str) -> str:
    """C-2026-000011 is indexed as 000011: "c-2026-" would be in every document, and trigrams
    found everywhere make every search slow (a reference typed whole is looked up exactly)."""
    return reference.rsplit("-", 1)[-1]


def contact_text(name, email, phone, phone_digits, external_id) -> str:
    """The ways a person is named. A phone is kept once, as its digits ("+44 7700 900456" as
    447700900456, "+86 138 0013 8000" as dialled at home, 13800138000): what is typed is read the
    same way (query.parse), and digits written three ways would make every digit search slower."""
    digits = phone_digits or re.sub(r"\D", "", phone or "")
    return "\n".join(part for part in (name, email, digits, external_id) if part)


def _case_documents(connection, ticket_ids: list[int], made=None) -> list[dict]:
    """The documents of these cases. A case the flush has just inserted (in `made`, with its customer
    loaded) is written from its objects: it has no earlier message or note to read, only those inserted
    with it, and nothing of it needs reading back."""
    made = made or {}
    fresh = [
        ticket
        for id_ in ticket_ids
        if (ticket := made.get((Ticket, id_))) is not None and "customer" in inspect(ticket).dict
    ]
    stored = sorted(set(ticket_ids) - {ticket.id for ticket in fresh})
    rows = [_CaseRow.of(ticket) for ticket in fresh]
    messages, notes = _made_bodies(made, Message), _made_bodies(made, Note)
    if stored:
        rows += connection.execute(
            select(
                Ticket.id,
                Ticket.reference,
                Ticket.subject,
                Ticket.description,
                Ticket.product,
                Ticket.customer_expectation,
                Customer.name,
                Customer.email,
                Customer.phone,
                Customer.phone_digits,
                Customer.external_id,
            )
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(Ticket.id.in_(stored))
        ).all()
        messages.update(_bodies(connection, Message, stored))
        notes.update(_bodies(connection, Note, stored))
    documents = []
    for row in rows:
        public = fold(
            "\n".join(
                part
                for part in (
                    reference_number(row.reference),
                    contact_text(row.name, row.email, row.phone, row.phone_digits, row.external_id),
                    row.subject,
                    row.description,
                    row.product,
                    row.customer_expectation,
                    *messages.get(row.id, ()),
                )
                if part
            )
        )
        internal = fold("\n".join(notes.get(row.id, ())))
        documents.append(
            {
                "ticket_id": row.id,
                "public_text": public,
                "notes_text": internal,
                "short_public": short_terms(public),
                "short_notes": short_terms(internal),
            }
        )
    return documents


class _CaseRow:
    """A just-inserted case's fields under the names of the document query's columns."""

    __slots__ = (
        "id",
        "reference",
        "subject",
        "description",
        "product",
        "customer_expectation",
        "name",
        "email",
        "phone",
        "phone_digits",
        "external_id",
    )

    @classmethod
    def of(cls, ticket: Ticket) -> "_CaseRow":
        row, customer = cls(), ticket.customer
        for name in cls.__slots__[:6]:
            setattr(row, name, getattr(ticket, name))
        for name in cls.__slots__[6:]:
            setattr(row, name, getattr(customer, name))
        return row


def _made_bodies(made, model) -> dict[int, list[str]]:
    """The bodies of the messages (or notes) the flush inserted, per case, in id order."""
    bodies: dict[int, list[str]] = {}
    for obj in sorted((obj for (kind, _), obj in made.items() if kind is model), key=lambda obj: obj.id):
        bodies.setdefault(obj.ticket_id, []).append(obj.body)
    return bodies


def _bodies(connection, model, ticket_ids) -> dict[int, list[str]]:
    bodies: dict[int, list[str]] = {}
    query = select(model.ticket_id, model.body).where(model.ticket_id.in_(ticket_ids)).order_by(model.id)
    for ticket_id, body in connection.execute(query):
        bodies.setdefault(ticket_id, []).append(body)
    return bodies


def _customer_documents(connection, customer_ids: list[int], made=None) -> list[dict]:
    """The documents of these customers; one the flush has just inserted (in `made`) from its object."""
    made = made or {}
    rows = [made[Customer, id_] for id_ in customer_ids if (Customer, id_) in made]
    stored = [id_ for id_ in customer_ids if (Customer, id_) not in made]
    if stored:
        rows += connection.execute(
            select(
                Customer.id, Customer.name, Customer.email, Customer.phone, Customer.phone_digits, Customer.external_id
            ).where(Customer.id.in_(stored))
        ).all()
    documents = []
    for row in rows:
        contact = fold(contact_text(row.name, row.email, row.phone, row.phone_digits, row.external_id))
        documents.append({"customer_id": row.id, "contact_text": contact, "short_contact": short_terms(contact)})
    return documents


def write(connection, ticket_ids=(), customer_ids=(), new=None) -> None:
    """Rewrite the documents of these cases and customers (and of every case of these customers).
    `new` maps the (model, id) of rows this flush inserted (cases, customers, messages, notes) to their
    objects: they have no document or case yet to read, and their documents are written from them.

    On PostgreSQL the rows a document is read from are locked first (FOR NO KEY UPDATE, in id
    order, as a versioned change locks them): two notes added to one case at the same moment then
    write its document one after the other, the second reading the first's note, so neither is
    lost from the index and neither trips over the other's row."""
    new = new or {}
    customer_ids = sorted(set(customer_ids))
    ticket_ids = set(ticket_ids)
    for batch in _batches(customer_ids):
        _lock(connection, Customer, batch)
        if known := [id_ for id_ in batch if (Customer, id_) not in new]:
            ticket_ids.update(connection.scalars(select(Ticket.id).where(Ticket.customer_id.in_(known))))
        _replace(connection, CustomerDocument, batch, _customer_documents(connection, batch, new), known)
    for batch in _batches(sorted(ticket_ids)):
        _lock(connection, Ticket, batch)
        known = [id_ for id_ in batch if (Ticket, id_) not in new]
        _replace(connection, CaseDocument, batch, _case_documents(connection, batch, new), known)


def _lock(connection, model, ids) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(select(model.id).where(model.id.in_(ids)).order_by(model.id).with_for_update(key_share=True))


def _replace(connection, model, ids, documents, known=None) -> None:
    """`known`: the ids that may have a document already (None: all of them)."""
    key = next(iter(model.__table__.primary_key.columns))
    if known is None or known:
        connection.execute(delete(model).where(key.in_(ids if known is None else known)))
    if documents:
        connection.execute(insert(model), documents)


def _batches(ids):
    iterator = iter(ids)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def rebuild(connection, progress=None) -> tuple[int, int]:
    """Every document written again from the rows (after a restore or a bulk load).

    On SQLite the triggers are set aside and the full-text index is rebuilt in one pass at the
    end, which is much faster than keeping it row by row."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        for table in FTS_TABLES:
            for name in ("ai", "ad", "au"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_{name}"))
    connection.execute(delete(CaseDocument))
    connection.execute(delete(CustomerDocument))
    customers = connection.scalars(select(Customer.id).order_by(Customer.id)).all()
    for batch in _batches(customers):
        connection.execute(insert(CustomerDocument), _customer_documents(connection, batch))
    tickets = connection.scalars(select(Ticket.id).order_by(Ticket.id)).all()
    for done, batch in enumerate(_batches(tickets), start=1):
        connection.execute(insert(CaseDocument), _case_documents(connection, batch))
        if progress:
            progress(min(done * BATCH, len(tickets)), len(tickets))
    if sqlite:
        for table, (fts, _key) in FTS_TABLES.items():
            connection.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"))
            for statement in sqlite_triggers(table):
                connection.execute(text(statement))
    return len(tickets), len(customers)


# --- kept in step with every flush ------------------------------------------------------------

TICKET_FIELDS = ("reference", "subject", "description", "product", "customer_expectation", "customer_id")
CUSTOMER_FIELDS = ("name", "email", "phone", "phone_digits", "external_id")
PENDING = "search_documents"


def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return state.pending or any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "after_flush")
def _note_changes(session, _context) -> None:
    tickets, customers, new = session.info.setdefault(PENDING, (set(), set(), {}))
    new.update({(type(obj), obj.id): obj for obj in session.new if isinstance(obj, Ticket | Customer | Message | Note)})
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Ticket) and _changed(obj, TICKET_FIELDS):
            tickets.add(obj.id)
        elif isinstance(obj, Note | Message) and _changed(obj, ("body", "ticket_id")):
            tickets.add(obj.ticket_id)
        elif isinstance(obj, Customer) and _changed(obj, CUSTOMER_FIELDS):
            customers.add(obj.id)


@event.listens_for(Session, "after_flush_postexec")
def _write_changes(session, _context) -> None:
    tickets, customers, new = session.info.pop(PENDING, (set(), set(), {}))
    if tickets or customers:
        write(session.connection(), ticket_ids=tickets, customer_ids=customers, new=new)


def in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic: the FTS5 tables (and their shadow tables) are made by the migration's own SQL,
    and the trigram indexes exist only on PostgreSQL, so autogenerate leaves them alone."""
    if type_ == "table" and name and "_search_fts" in name:
        return False
    if type_ == "index" and name and name.startswith(("ix_case_search_", "ix_customer_search_")):
        return False
    return True
