"""Fixtures: an app with a fresh database per test, on SQLite (default) or PostgreSQL.

Set TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test to run on
PostgreSQL: the run creates a database of its own next to that one and drops it at the end,
so runs never see each other's leftovers.
"""

import contextvars
import os
import sqlite3
import uuid
from datetime import datetime, timezone

import pytest
from flask.testing import FlaskClient

from config import TestConfig
from tests.databases import PostgresBaseline, temporary_postgres_database
from ticketing import clock, create_app
from ticketing.auth.services import create_user
from ticketing.extensions import db

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def database_url():
    base = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if not base.startswith("postgresql"):
        yield base
        return
    with temporary_postgres_database(base, "ticketing_test") as url:
        yield url


class IsolatedClient(FlaskClient):
    """Each request runs outside the test's own app context, as in production: its own `g`
    (so Flask-Login cannot reuse a user loaded by an earlier request) and its own db session."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # read and close file responses at once
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()  # the test's session must see what the request committed
        return response


def _in_memory(url: str) -> bool:
    return url in ("sqlite://", "sqlite:///:memory:")


@pytest.fixture(scope="session")
def sqlite_schema(database_url):
    """On in-memory SQLite, the schema built once by create_all (tables, indexes, triggers), which
    each test's new database is copied from: a copy takes under a millisecond, create_all ~30 ms."""
    if not _in_memory(database_url):
        yield None
        return
    app = create_app(type("SchemaConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url}))
    template = sqlite3.connect(":memory:")
    with app.app_context():
        db.create_all()
        _copy_database(db.engine, source=None, target=template)
        db.engine.dispose()
    yield template
    template.close()


def _copy_database(engine, source, target) -> None:
    """sqlite3's backup from `source` into `target`; None stands for the engine's one connection."""
    raw = engine.raw_connection()  # in memory, Flask-SQLAlchemy keeps a single connection (StaticPool)
    try:
        (source or raw.driver_connection).backup(target or raw.driver_connection)
    finally:
        raw.close()


@pytest.fixture(scope="session")
def postgres_baseline(database_url):
    """On PostgreSQL, the run's schema, built once and brought back before each test (see
    PostgresBaseline); None elsewhere."""
    if not database_url.startswith("postgresql"):
        yield None
        return
    app = create_app(type("SchemaConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url}))
    with app.app_context():
        baseline = PostgresBaseline(db.engine)
        db.engine.dispose()
    yield baseline


@pytest.fixture
def app(database_url, sqlite_schema, postgres_baseline):
    config = type("RunConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url})
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        if sqlite_schema is not None:
            _copy_database(db.engine, source=sqlite_schema, target=None)  # a new, empty database
        elif postgres_baseline is not None:
            postgres_baseline.restore(db.engine)
        else:
            db.create_all()
        yield app
        db.session.remove()
        if postgres_baseline is not None:
            postgres_baseline.release()
        elif sqlite_schema is None:
            db.drop_all()  # an in-memory database ends with its connection, below
        db.engine.dispose()
    clock.set_clock(None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    def make(role="agent", email=None, name=None, locale="en"):
        email = email or f"{role}-{uuid.uuid4().hex[:6]}@example.com"
        user = create_user(email=email, password=PASSWORD, role=role, name=name or role.title(), locale=locale)
        db.session.commit()
        return user

    return make


@pytest.fixture
def agent(make_user):
    return make_user("agent", "agent@example.com", "Ann Agent")


@pytest.fixture
def supervisor(make_user):
    return make_user("supervisor", "supervisor@example.com", "Sam Supervisor")


@pytest.fixture
def admin(make_user):
    return make_user("admin", "admin@example.com", "Ada Admin")


def login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def frozen_clock():
    """Freeze time at a known instant; call .move(**timedelta_kwargs) to advance it."""
    from datetime import timedelta

    class Frozen:
        now = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)

        def move(self, **delta):
            self.now += timedelta(**delta)

    frozen = Frozen()
    clock.set_clock(lambda: frozen.now)
    yield frozen
    clock.set_clock(None)


@pytest.fixture
def inbox(app):
    """SMTP on a free local port, configured into the app; yields the received messages."""
    from aiosmtpd.controller import Controller

    from tests.mail import Inbox, free_port

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, MAIL_FROM="service-desk@example.com")
    try:
        yield handler
    finally:
        controller.stop()
