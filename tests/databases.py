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
