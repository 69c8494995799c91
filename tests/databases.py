"""Throw-away databases for a test run, so runs never see each other's leftovers."""

import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ticketing.extensions import db


@contextmanager
def temporary_postgres_database(server_url: str, prefix: str):
    """A new database beside the one `server_url` names; dropped afterwards. Yields its URL."""
    url = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def unprotect(table: str) -> None:
    """Take the append-only triggers off `table` in the test's own database, as someone with the
    database's owner role could (each test's tables are made anew, triggers and all)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for trigger in db.session.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"), {"table": table}
        ).all():
            db.session.execute(text(f'DROP TRIGGER "{trigger}"'))
    db.session.commit()


def behind_the_applications_back(table: str, statement: str, params: dict | None = None) -> None:
    """Run `statement` on `table` with its triggers off, and commit."""
    unprotect(table)
    db.session.execute(text(statement), params or {})
    db.session.commit()


class PostgresBaseline:
    """On PostgreSQL, the schema create_all builds, made once per run and brought back before each
    test: every row deleted (triggers off, as the server's superuser may), the rows create_all seeds
    put back and the sequences rewound. About 20 ms, where create_all and drop_all take about a
    second. A test that changed the schema itself (a dropped trigger, a table made or dropped) gets
    it built anew. Without superuser rights, every test builds and drops the schema as before."""

    def __init__(self, engine):
        self.superuser = _superuser(engine)
        self._build(engine)

    def restore(self, engine) -> None:
        """Make the database what it was just after create_all."""
        if not self.superuser:
            db.create_all()
            return
        with engine.begin() as conn:
            if _fingerprint(conn) != self.fingerprint:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
                rebuild = True
            else:
                rebuild = False
                conn.execute(text("SET LOCAL session_replication_role = replica"))  # no trigger fires
                for table in self.tables:
                    conn.execute(text(f'DELETE FROM "{table.name}"'))
                for table, rows in self.seeded:
                    conn.execute(table.insert(), rows)
                for name, value in self.sequences:
                    conn.execute(text("SELECT setval(:name, :value, :called)"), _position(name, value))
        if rebuild:
            self._build(engine)

    def release(self) -> None:
        """After the test: without superuser rights its schema goes (restore builds the next one)."""
        if not self.superuser:
            db.drop_all()

    def _build(self, engine) -> None:
        db.create_all()
        self.tables = list(db.metadata.sorted_tables)
        with engine.connect() as conn:
            self.fingerprint = _fingerprint(conn)
            self.seeded = [
                (table, [dict(row._mapping) for row in rows])
                for table in self.tables
                if (rows := conn.execute(table.select()).all())
            ]
            self.sequences = conn.execute(
                text("SELECT quote_ident(sequencename), last_value FROM pg_sequences WHERE schemaname = 'public'")
            ).all()


def _position(name: str, value: int | None) -> dict:
    """setval's arguments that put a sequence back where it was: unused (next is 1) or at `value`."""
    return {"name": name, "value": value or 1, "called": value is not None}


def _superuser(engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")))


def _fingerprint(conn) -> tuple:
    """What the schema holds: its relations (tables, indexes, sequences, views) and its own triggers,
    with whether each is enabled."""
    relations = conn.execute(
        text(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' ORDER BY 1"
        )
    ).all()
    triggers = conn.execute(
        text(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal "
            "ORDER BY 1, 2"
        )
    ).all()
    return tuple(map(tuple, relations)), tuple(map(tuple, triggers))
