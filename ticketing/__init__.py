"""The application factory: extensions, blueprints, CLI, error pages — nothing else."""

from pathlib import Path

import click
from flask import Flask

from config import Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type = Config) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_class)
    from ticketing import setup

    setup.configure_production(app)  # production: refuse to start without SECRET_KEY and audit keys
    setup.configure_database(app)  # SQLAlchemy + Migrate, SQLite pragmas
    setup.configure_audit_keys(app)  # the keys that seal the record and security logs
    setup.configure_auth(app)  # Flask-Login, CSRF, rate limits
    setup.configure_proxy(app)  # TRUSTED_PROXIES: the client's address behind a reverse proxy
    setup.configure_i18n(app)  # Flask-Babel: per-user language and timezone
    setup.configure_url_converters(app)  # ids within the database's range, no control characters
    setup.configure_blueprints(app)  # the front doors
    setup.configure_security_headers(app)
    setup.configure_errors(app)
    setup.configure_logging(app)  # no tracking token in request logs
    setup.configure_cli(app)
    setup.configure_templates(app)
    if click.get_current_context(silent=True) is None:  # serving (gunicorn), not a flask command
        setup.refuse_demo_accounts(app)
    return app
