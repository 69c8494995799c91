"""`flask db upgrade` on an empty database builds exactly the schema the models describe."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from config import TestConfig
from tests.databases import temporary_postgres_database
from ticketing import create_app
from ticketing.cases.search.documents import in_autogenerate
from ticketing.extensions import db


@pytest.fixture
def empty_database_url(tmp_path):
    base = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    with temporary_postgres_database(base, "ticketing_migration") as url:
        yield url


def test_upgrade_from_empty_database_matches_the_models(empty_database_url):
    config = type("MigrationConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    app = create_app(config)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"include_object": in_autogenerate})
            differences = compare_metadata(context, db.metadata)
            tables = set(inspect(conn).get_table_names())
            search_indexes = {index["name"] for index in inspect(conn).get_indexes("case_search")}
        db.engine.dispose()
    assert differences == []
    assert {"tickets", "events", "users", "customers", "resolutions"} <= tables
    # What autogenerate is told to leave alone must still be there: the text indexes of search.
    if empty_database_url.startswith("postgresql"):
        assert {"ix_case_search_public_text", "ix_case_search_short_notes"} <= search_indexes
    else:
        assert {"case_search_fts", "customer_search_fts"} <= tables


def _triggers(conn) -> set:
    if conn.dialect.name == "postgresql":
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    return set(conn.exec_driver_sql(query).scalars())


def test_the_migrations_install_the_same_append_only_triggers_as_the_models(empty_database_url, app):
    with db.engine.connect() as conn:
        from_models = _triggers(conn)
    config = type("MigrationConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    migrated = create_app(config)
    with migrated.app_context():
        upgrade()
        with db.engine.connect() as conn:
            from_migrations = _triggers(conn)
        db.engine.dispose()
    assert {"events_no_update", "listen_records_no_update", "security_log_no_update"} <= from_models
    assert from_migrations == from_models


# What a case looked like in the database before its records were sealed (revision 0015).
_LEGACY = {
    "users": dict(
        email="agent@example.com",
        name="Ann",
        role="agent",
        password_hash="x",
        active=True,
        locale="en",
        timezone="Asia/Shanghai",
        session_token="s",
    ),
    "customers": dict(name="Li Lei", email="li@example.com", value_tier="standard", locale="en", version=1),
}


def test_upgrading_seals_the_existing_log_and_records(empty_database_url):
    import hashlib
    import json
    from datetime import datetime, timezone

    from flask_migrate import upgrade as upgrade_to
    from sqlalchemy import MetaData, Table, insert, select

    from ticketing.cases import chain
    from ticketing.cases.audit import Event

    config = type("MigrationConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    migrated = create_app(config)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)
    with migrated.app_context():
        upgrade_to(revision="0015_catalogues")
        with db.engine.begin() as conn:
            tables = MetaData()

            def add(table_name, **values):
                table = Table(table_name, tables, autoload_with=conn)
                return conn.execute(insert(table).values(**values)).inserted_primary_key[0]

            user = add("users", **_LEGACY["users"], created_at=now)
            customer = add("customers", **_LEGACY["customers"], created_at=now)
            ticket = add(
                "tickets",
                reference="C-2026-000001",
                customer_id=customer,
                subject="Kettle",
                description="Leaks",
                channel="phone",
                priority="normal",
                priority_rank=2,
                step="apologise",
                status="open",
                resolution_state="none",
                created_at=now,
                updated_at=now,
                response_due_at=now,
                resolution_due_at=now,
                version=2,
            )
            add(
                "listen_records",
                ticket_id=ticket,
                customer_words="It leaks",
                restatement="It leaks?",
                restatement_confirmed=True,
                expectation="A new one",
                emotion="upset",
                dissatisfaction="explicit",
                recorded_by_id=user,
                created_at=now,
            )
            previous = None
            for seq, action in enumerate(["create", "listen"], start=1):
                content = [previous, ticket, seq, user, "Ann", action, {}, now.isoformat()]
                digest = hashlib.sha256(
                    json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
                ).hexdigest()
                add(
                    "events",
                    ticket_id=ticket,
                    actor_id=user,
                    actor_name="Ann",
                    action=action,
                    changes={},
                    created_at=now,
                    seq=seq,
                    prev_hash=previous,
                    hash=digest,
                )
                previous = digest
        upgrade_to()
        events = db.session.scalars(select(Event).order_by(Event.seq)).all()
        assert [event.action for event in events] == ["create", "listen", "records_sealed"]
        assert all(event.key_id == "test1" for event in events)
        assert chain.verify(Event) == (3, None)
        db.session.commit()  # end the session's reading transaction: PostgreSQL's DROP TRIGGER waits for it
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "DROP TRIGGER listen_records_no_update"
                + (" ON listen_records" if conn.dialect.name == "postgresql" else "")
            )
            conn.exec_driver_sql("UPDATE listen_records SET restatement = 'Nothing leaks'")
        _checked, broken = chain.verify(Event)
        assert "listen_records #1: its field restatement differs" in broken.problem
        db.session.remove()
        db.engine.dispose()


def test_the_heads_read_from_the_version_files_are_alembics(app):
    from alembic.script import ScriptDirectory

    from ticketing.migration_heads import migration_heads

    directory = app.extensions["migrate"].directory
    assert migration_heads() == set(ScriptDirectory(directory).get_heads()) and len(migration_heads()) == 1


def test_a_web_worker_does_not_load_alembic():
    """Alembic costs a process about 11 MiB and no request needs it; `flask db` still works. Nor does it
    load APScheduler (it shows the job table, never runs a scheduler) or icalendar (only a holiday
    calendar's import reads one): 4.5 MiB less per worker."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from ticketing import create_app; from ticketing.extensions import db; "
        "from config import TestConfig; app = create_app(TestConfig)\n"
        "with app.app_context(): db.create_all()\n"
        "c = app.test_client()\n"
        "print(c.get('/login').status_code, c.get('/readyz').status_code, 'alembic' in sys.modules,"
        " 'apscheduler' in sys.modules, 'icalendar' in sys.modules)"
    )
    environment = dict(os.environ, APP_ENV="development")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=False)
    assert shown.stdout.split()[-5:] == ["200", "503", "False", "False", "False"], shown.stderr[-2000:]
