"""gunicorn's settings for the web process: `gunicorn -c gunicorn.conf.py wsgi:app` (gunicorn also reads
this file by itself when started in this folder). The scheduler is its own process: `flask --app wsgi
scheduler run` (deploy/ has a systemd unit for each, and the Procfile names both).

Every value can be changed from the environment: GUNICORN_BIND, WEB_CONCURRENCY (workers), GUNICORN_TIMEOUT,
GUNICORN_ACCESS_LOG ("-": standard output; a path: that file; "" or "off": none)."""

import gc
import multiprocessing
import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # the reverse proxy in front connects here
# Sync workers, two per core plus one: each request holds a worker while it waits on the database.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # a worker silent this long is killed and replaced
graceful_timeout = 30  # on restart, requests in flight get this long to finish
keepalive = 5  # behind a proxy that keeps connections open
max_requests = 2000  # a worker is replaced after this many requests (jittered), bounding any slow leak
max_requests_jitter = 200
# The app is loaded once, in the master, and the workers share its memory (copy-on-write): a worker's own
# memory is then ~16 MiB instead of ~66 MiB (bench/README.md, #18). Each worker opens its own database
# connections (post_fork). A code update takes a restart (`systemctl restart`, as the README says):
# a reload (HUP) starts new workers from the code already loaded.
preload_app = True

_access_log = os.environ.get("GUNICORN_ACCESS_LOG", "-")
accesslog = None if _access_log in ("", "off") else _access_log
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The client's address, the request, status, size, referrer, agent, time in ms and the worker's pid.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms pid=%(p)s'


def on_starting(server):
    """Rate limits (logins, complaints, API calls) count per process with memory:// storage: with more
    than one worker each would allow the whole limit again. Refuse, unless in development."""
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    if server.cfg.workers > 1 and storage.startswith("memory://") and os.environ.get("APP_ENV") != "development":
        raise SystemExit(
            f"gunicorn: {server.cfg.workers} workers with RATELIMIT_STORAGE_URI={storage} would each count the rate "
            "limits apart. Set RATELIMIT_STORAGE_URI=redis://localhost:6379/0 (a Redis all workers share), "
            "or WEB_CONCURRENCY=1."
        )
    _empty_metrics_folder()


def pre_fork(server, worker):
    """The loaded app's objects are moved out of the garbage collector's reach before a worker forks, so
    its collections never write to (and so copy) the pages the workers share (gc.freeze's purpose)."""
    gc.freeze()


def post_fork(server, worker):
    """A worker never uses a database connection the master may have opened while loading the app: the
    inherited pools are dropped without closing them (the master's connections stay the master's). An app
    without the database (bench/bare_flask.py, served with these settings) has none to drop."""
    app = server.app.wsgi()
    if "sqlalchemy" not in app.extensions:
        return
    from ticketing.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def _empty_metrics_folder() -> None:
    """Prometheus's multiprocess mode (PROMETHEUS_MULTIPROC_DIR) adds up the files every worker writes
    there: files left by an earlier run would be counted again, so the folder starts empty."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    if path.exists():
        for entry in path.iterdir():
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    path.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """A worker that is gone leaves its live gauges behind unless told (prometheus_client's rule)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
