"""The named steps create_app() runs, one per concern."""

import logging
import re
from pathlib import Path

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import IntegerConverter, UnicodeConverter

from ticketing import (
    models,  # noqa: F401  (every table, for the metadata and Alembic)
    refusals,
    validation,
)
from ticketing.admin.replies import bp as replies_bp
from ticketing.admin.scheduler import bp as scheduler_bp
from ticketing.admin.users import bp as users_bp
from ticketing.api import problems
from ticketing.api.views import bp as api_bp
from ticketing.auth.sessions import load_user
from ticketing.auth.views import bp as auth_bp
from ticketing.cases import vocabulary
from ticketing.cases.services.base import StaleCase
from ticketing.cli import register
from ticketing.desk.search import bp as search_bp
from ticketing.desk.views import bp as desk_bp
from ticketing.extensions import babel, csrf, db, limiter, login_manager, migrate
from ticketing.i18n import day, duration, select_locale, select_timezone, template_context, when
from ticketing.insight.risk_views import bp as insight_risk_bp
from ticketing.insight.views import bp as insight_bp
from ticketing.notify.views import bp as notifications_bp
from ticketing.portal.views import PORTAL_PATHS
from ticketing.portal.views import bp as portal_bp
from ticketing.review.log import bp as record_log_bp
from ticketing.review.views import bp as review_bp

PACKAGE_DIR = Path(__file__).resolve().parent


def configure_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 15}}
        if uri.startswith("sqlite:///") and uri != "sqlite://":
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: foreign keys on, WAL for concurrent readers, wait instead of failing when busy."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def configure_auth(app: Flask) -> None:

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    csrf.init_app(app)
    limiter.init_app(app)


def configure_i18n(app: Flask) -> None:

    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` within the database's integer range: a longer number is a 404, never an overflow
    (nor Python's limit on converting very long digit strings). ASCII digits only."""

    regex = r"[0-9]{1,10}"
    signed_regex = r"-?[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # werkzeug's parameter names
        lowest = -validation.MAX_INT - 1 if signed else 0
        super().__init__(
            map,
            fixed_digits=fixed_digits,
            signed=signed,
            min=lowest if min is None or min < lowest else min,
            max=validation.MAX_INT if max is None or max > validation.MAX_INT else max,
        )


class StorableStringConverter(UnicodeConverter):
    """The default `<name>` segment with each control character replaced by U+FFFD, as werkzeug already
    does with bytes that are not UTF-8: no NUL reaches PostgreSQL (which refuses it), and the view
    answers as for any other unknown reference, token or name (the same 404, the API's included)."""

    def to_python(self, value: str) -> str:
        return validation.replace_control_characters(value)


def configure_url_converters(app: Flask) -> None:
    """Before any route is added: path values follow the validation policy (ticketing/validation.py)."""
    app.url_map.converters.update(
        int=BoundedIntConverter, default=StorableStringConverter, string=StorableStringConverter
    )


def configure_blueprints(app: Flask) -> None:

    for blueprint in (
        auth_bp,
        users_bp,
        desk_bp,
        search_bp,
        replies_bp,
        notifications_bp,
        scheduler_bp,
        review_bp,
        record_log_bp,
        portal_bp,
        api_bp,
        insight_bp,
        insight_risk_bp,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # the API authenticates by bearer token only, never by cookie


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def configure_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if current_user.is_authenticated:
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def configure_errors(app: Flask) -> None:
    """Every error answered here, once: the session is rolled back first, so a failed flush never
    breaks the page that reports it. People get a page, API callers problem+json."""

    def page(error, template="errors/error.html", **context):
        _roll_back(app)
        if problems.is_api_request():
            return problems.from_http(error)
        if request.path.startswith(PORTAL_PATHS):  # a customer sees the portal's page, not the staff product's
            template = "portal/error.html"
        return render_template(template, status=error.code, **context), error.code

    def refused(error: refusals.Refusal):
        """A rule said no: the reason, with 409/422; the page the user was on, shown again."""
        _roll_back(app)
        if problems.is_api_request():
            return problems.from_refusal(error)
        return refusals.page_for(error)

    def api_problem(handler):
        def answer(error):
            _roll_back(app)
            return handler(error)

        return answer

    app.register_error_handler(refusals.Refusal, refused)
    # A stale write the services did not catch themselves (Change.done turns its own into StaleCase).
    app.register_error_handler(StaleDataError, lambda error: refused(StaleCase(None)))
    app.register_error_handler(problems.ApiProblem, api_problem(problems.from_problem))
    app.register_error_handler(problems.InvalidInput, api_problem(problems.from_invalid_input))
    app.register_error_handler(CSRFError, lambda e: page(e, csrf=True))
    for status in (400, 401, 403, 404, 405, 413, 415, 429, 500):
        app.register_error_handler(status, page)


def _roll_back(app: Flask) -> None:
    try:
        db.session.rollback()
    except Exception:  # a broken connection must not stop the error page; the pool replaces it
        app.logger.exception("rollback failed while answering an error")


class _HideTrackingTokens(logging.Filter):
    """Request logs never show a customer's tracking token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                re.sub(r"/track/[^/\s?\"]+", "/track/[token]", a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = re.sub(r"/track/[^/\s?\"]+", "/track/[token]", str(record.msg))
        return True


def configure_logging(app: Flask) -> None:
    for name in ("werkzeug", "gunicorn.access"):  # the dev server's and gunicorn's request logs
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _HideTrackingTokens) for existing in logger.filters):
            logger.addFilter(_HideTrackingTokens())


def configure_cli(app: Flask) -> None:

    register(app)


def configure_templates(app: Flask) -> None:

    app.jinja_env.globals.update(V=vocabulary, label=vocabulary.label_for, when=when, day=day, duration=duration)
    app.context_processor(template_context)
