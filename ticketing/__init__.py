"""The application factory: extensions, blueprints, CLI, error pages — nothing else."""

from pathlib import Path

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

    setup.configure_database(app)  # SQLAlchemy + Migrate, SQLite pragmas
    setup.configure_auth(app)  # Flask-Login, CSRF, rate limits
    setup.configure_i18n(app)  # Flask-Babel: per-user language and timezone
    setup.configure_url_converters(app)  # ids within the database's range, no control characters
    setup.configure_blueprints(app)  # the front doors
    setup.configure_security_headers(app)
    setup.configure_errors(app)
    setup.configure_logging(app)  # no tracking token in request logs
    setup.configure_cli(app)
    setup.configure_templates(app)
    return app
