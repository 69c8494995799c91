"""gunicorn.conf.py's own hooks, run as gunicorn runs them."""

import runpy
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]


def _config(monkeypatch, **env):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_the_metrics_folder_starts_empty_so_an_earlier_run_is_not_counted_again(monkeypatch, tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1234.db").write_bytes(b"left by the last run")
    config = _config(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(folder), RATELIMIT_STORAGE_URI="redis://x")
    config["on_starting"](SimpleNamespace(cfg=SimpleNamespace(workers=4)))
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_without_multiprocess_metrics_nothing_is_touched(monkeypatch, tmp_path):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    config = _config(monkeypatch, RATELIMIT_STORAGE_URI="redis://x")
    config["on_starting"](SimpleNamespace(cfg=SimpleNamespace(workers=4)))
    config["child_exit"](None, SimpleNamespace(pid=1234))  # no folder: nothing to mark


def test_a_forked_worker_opens_its_own_database_connections(monkeypatch, app):
    """The app is preloaded in the master: a worker drops the pool it inherits (without closing the
    master's connections) and connects afresh."""
    from sqlalchemy import text

    from ticketing.extensions import db

    config = _config(monkeypatch, RATELIMIT_STORAGE_URI="redis://x")
    assert config["preload_app"] is True
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.commit()
        before = db.engine.pool
    config["post_fork"](SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app)), SimpleNamespace(pid=1))
    with app.app_context():
        assert db.engine.pool is not before  # a new, empty pool
        assert db.session.execute(text("SELECT 1")).scalar() == 1
    before.dispose()  # here the "master" is this test: its connections are closed by it
