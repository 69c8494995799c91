"""SQLite's write lock and sync policy: reads never hold the lock, a transaction takes it at its first
write (BEGIN IMMEDIATE, so a writer never fails halfway for want of it), and `synchronous` follows
SQLITE_SYNCHRONOUS (NORMAL unless set). A database file of their own, whatever TEST_DATABASE_URL says."""

import fcntl
import sqlite3

import pytest
from sqlalchemy import select, text

from config import TestConfig
from ticketing import create_app
from ticketing.cases.models import ReferenceCounter
from ticketing.extensions import db
from ticketing.setup import UnsafeSettings


def _app(path, **settings):
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", **settings}
    app = create_app(type("LockConfig", (TestConfig,), config))
    with app.app_context():
        db.create_all()
    return app


def _other_writer_can_start(path) -> bool:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    finally:
        other.close()


def test_reads_leave_the_write_lock_free_and_the_first_write_takes_it(tmp_path):
    path = tmp_path / "lock.sqlite"
    app = _app(path)
    with app.app_context():
        db.session.scalars(select(ReferenceCounter)).all()
        assert _other_writer_can_start(path)  # a read holds nothing
        db.session.add(ReferenceCounter(year=2026, last=1))
        db.session.flush()
        assert not _other_writer_can_start(path)  # the first write took the lock, until the commit
        db.session.commit()
        assert _other_writer_can_start(path)
        db.session.remove()
        db.engine.dispose()


def _turn_is_free(path) -> bool:
    with open(f"{path}-writers", "a+") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_writers_take_turns_at_the_lock_file_from_the_first_write_to_the_commit(tmp_path):
    path = tmp_path / "turns.sqlite"
    app = _app(path)
    with app.app_context():
        db.session.scalars(select(ReferenceCounter)).all()
        assert _turn_is_free(path)
        db.session.add(ReferenceCounter(year=2026, last=1))
        db.session.flush()
        assert not _turn_is_free(path)
        db.session.commit()
        assert _turn_is_free(path)
        db.session.add(ReferenceCounter(year=2027, last=1))
        db.session.flush()
        assert not _turn_is_free(path)
        db.session.rollback()
        assert _turn_is_free(path)
        db.session.remove()
        db.engine.dispose()


def test_a_savepoint_before_any_write_takes_the_lock_too(tmp_path):
    path = tmp_path / "savepoint.sqlite"
    app = _app(path)
    with app.app_context():
        with db.session.begin_nested():
            db.session.scalars(select(ReferenceCounter)).all()  # a read first, as a look-up before an insert
            assert not _other_writer_can_start(path)
            db.session.add(ReferenceCounter(year=2026, last=1))
        db.session.commit()
        assert _other_writer_can_start(path)
        assert db.session.scalars(select(ReferenceCounter.last)).all() == [1]
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(("setting", "level"), [(None, 1), ("FULL", 2), ("normal", 1), ("OFF", 0)])
def test_sqlite_syncs_as_the_setting_says(tmp_path, setting, level):
    app = _app(tmp_path / "sync.sqlite", **({"SQLITE_SYNCHRONOUS": setting} if setting else {}))
    with app.app_context():
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == level
        db.session.remove()
        db.engine.dispose()


def test_an_unknown_synchronous_setting_refuses_to_start(tmp_path):
    with pytest.raises(UnsafeSettings, match="SQLITE_SYNCHRONOUS"):
        _app(tmp_path / "bad.sqlite", SQLITE_SYNCHRONOUS="SOMETIMES")
