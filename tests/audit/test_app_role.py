"""On PostgreSQL the application logs in as a role that owns nothing: it works the desk, but cannot
take the triggers off the logs, rewrite or delete their rows, or delete a sealed record."""

import os
import uuid

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from config import TestConfig
from tests.databases import temporary_postgres_database
from tests.factories import open_case, to_step
from ticketing import create_app
from ticketing.auth.services import create_user
from ticketing.cases import chain
from ticketing.cases.audit import Event
from ticketing.extensions import db

SERVER = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not SERVER.startswith("postgresql"), reason="roles are PostgreSQL's")


@pytest.fixture
def app_role_url():
    """A migrated database owned by the server's user, and the URL of a new role granted access to it."""
    role = f"ticketing_app_{uuid.uuid4().hex[:10]}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    try:
        with temporary_postgres_database(SERVER, "ticketing_roles") as owner_url:
            owner = create_app(type("Owner", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": owner_url}))
            with owner.app_context():
                upgrade()
                result = owner.test_cli_runner().invoke(args=["audit", "grant-app-role", role])
                assert result.exit_code == 0, result.output
                db.engine.dispose()
            yield make_url(owner_url).set(username=role, password=None).render_as_string(hide_password=False)
            owner_engine = create_engine(owner_url, isolation_level="AUTOCOMMIT")
            with owner_engine.connect() as conn:
                conn.execute(text(f'DROP OWNED BY "{role}"'))
            owner_engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@pytest.fixture
def as_app_role(app_role_url):
    app = create_app(type("AppRole", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": app_role_url}))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


FORBIDDEN = [
    "ALTER TABLE events DISABLE TRIGGER USER",
    "DROP TRIGGER events_no_update ON events",
    "ALTER TABLE analysis_records DISABLE TRIGGER ALL",
    "SET session_replication_role = replica",
    "UPDATE events SET actor_name = 'Someone Else'",
    "DELETE FROM events",
    "TRUNCATE events",
    "UPDATE security_log SET details = '{}'",
    "DELETE FROM security_log",
    "DELETE FROM listen_records",
    "UPDATE analysis_records SET detail = 'It was the customer'",
    "UPDATE compensation_lines SET amount = 1",
]


def test_the_app_role_works_the_desk_but_cannot_rewrite_the_record(as_app_role):
    """One migrated database for every statement (a migration on PostgreSQL takes seconds)."""
    agent = create_user(email="agent@example.com", password="correct horse battery", role="agent", name="Ann")
    supervisor = create_user(email="sup@example.com", password="correct horse battery", role="supervisor", name="Sam")
    db.session.commit()
    ticket = open_case(agent)
    to_step(ticket, agent, "follow_up", approver=supervisor, amount=500)  # updates resolutions and lines too
    assert chain.verify(Event)[1] is None
    for statement in FORBIDDEN:
        with pytest.raises(DatabaseError, match="must be owner|permission denied"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert chain.verify(Event)[1] is None
