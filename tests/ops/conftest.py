"""Fixtures for the probes: a database stamped at the code's migration head, a scheduler that beat."""

from datetime import timedelta

import pytest
from sqlalchemy import text

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.migration_heads import migration_heads
from ticketing.scheduling import heartbeat


def stamp(revision: str) -> None:
    """What flask db upgrade leaves behind (the tests build their schema with create_all)."""
    db.session.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
    db.session.execute(text("DELETE FROM alembic_version"))
    db.session.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": revision})
    db.session.commit()


@pytest.fixture
def at_head(app):
    (head,) = migration_heads()
    stamp(head)
    yield head
    db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))  # create_all's drop_all does not know it
    db.session.commit()


def beat(name: str, ago: timedelta = timedelta(0)) -> None:
    heartbeat.beat(name, started_at=utcnow() - ago)
    row = db.session.get(heartbeat.JobRun, heartbeat.PREFIX + name)
    row.last_finished_at = utcnow() - ago
    db.session.commit()
