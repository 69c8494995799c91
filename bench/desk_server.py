"""The desk benchmark's app, as gunicorn serves it: `gunicorn -c gunicorn.conf.py --pythonpath bench desk_server:app`
with DESK_BENCH_DB naming the SQLite database bench/desk_data.py built (bench/desk.py starts it so).

Development settings on that database: SMTP off (in-app notices only), every rate limit off (flask-limiter's
login, portal and API limits, and the login throttle), made-up secret and audit keys; the scheduler is not
started (it is its own process). CSRF stays on: the load generator reads each form's token, as a browser does.
Nothing else is imported, so a worker's memory is the app's own."""

import os
from pathlib import Path

from config import Config
from ticketing import create_app

AUDIT_KEYS = "bench1:" + "5f0c" * 16  # made up: a benchmark's database, not an installation


def bench_config(path: Path, **settings) -> type:
    """Development settings on the bench database: SMTP off, every rate limit off, made-up keys."""
    values = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "SMTP_HOST": None,
        "SECRET_KEY": "bench-secret-key-" + "0" * 32,
        "APP_ENV": "development",
        "AUDIT_KEYS": AUDIT_KEYS,
        "RATELIMIT_ENABLED": False,  # flask-limiter: the login, portal and API limits
        "LOGIN_ACCOUNT_RATE_LIMIT": "1000000 per minute",  # the login throttle counts on its own
        "UPLOAD_DIR": str(path.parent / "desk-uploads"),
        "AUDIT_ANCHOR_DIR": str(path.parent / "desk-anchors"),
    }
    values.update(settings)
    return type("DeskBenchConfig", (Config,), values)


app = create_app(bench_config(Path(os.environ["DESK_BENCH_DB"]))) if os.environ.get("DESK_BENCH_DB") else None
