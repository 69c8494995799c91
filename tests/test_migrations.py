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
