"""The named steps create_app() runs, one per concern."""

import fcntl
import logging
import os
import re
import secrets
import time
from pathlib import Path

from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, UnicodeConverter

from ticketing import (
    models,  # noqa: F401  (every table, for the metadata and Alembic)
    navigation,
    refusals,
    sealing,
    validation,
)
from ticketing.admin.catalogues import bp as catalogues_bp
from ticketing.admin.mail import bp as mail_bp
from ticketing.admin.replies import bp as replies_bp
from ticketing.admin.scheduler import bp as scheduler_bp
from ticketing.admin.security_log import bp as security_log_bp
from ticketing.admin.settings import bp as settings_bp
from ticketing.admin.users import bp as users_bp
from ticketing.api import problems
from ticketing.api.views import bp as api_bp
from ticketing.auth.sessions import load_user
from ticketing.auth.views import bp as auth_bp
from ticketing.cases import catalogue, vocabulary
from ticketing.cases.services.base import StaleCase
from ticketing.cli import register
from ticketing.demo import active_demo_accounts
from ticketing.desk.queue import bp as queues_bp
from ticketing.desk.search import bp as search_bp
from ticketing.desk.views import bp as desk_bp
from ticketing.extensions import babel, csrf, db, limiter, login_manager, migrate
from ticketing.i18n import (
    aside,
    colon,
    day,
    duration,
    install_template_gettext,
    labelled,
    select_locale,
    select_timezone,
    template_context,
    when,
)
from ticketing.i18n import lazy_gettext as _l
from ticketing.insight.risk_views import bp as insight_risk_bp
from ticketing.insight.views import bp as insight_bp
from ticketing.notify.views import bp as notifications_bp
from ticketing.ops.views import bp as ops_bp
from ticketing.portal.views import PORTAL_PATHS
from ticketing.portal.views import bp as portal_bp
from ticketing.review.log import bp as record_log_bp
from ticketing.review.views import bp as review_bp

PACKAGE_DIR = Path(__file__).resolve().parent
DEVELOPMENT = "development"
MIN_SECRET_KEY = 32


class UnsafeSettings(RuntimeError):
    """Production settings that would serve insecurely; the message says what to set (raised at start-up)."""


def is_development(app: Flask) -> bool:
    return app.config["APP_ENV"] == DEVELOPMENT


def configure_production(app: Flask) -> None:
    """Development makes up a missing SECRET_KEY; production refuses to start without the secrets,
    so every worker signs with the same key and no log is sealed by a key nobody kept."""
    if is_development(app):
        app.config["SECRET_KEY"] = app.config.get("SECRET_KEY") or secrets.token_hex(32)  # one process: make run
        return
    key = app.config.get("SECRET_KEY") or ""
    if len(key) < MIN_SECRET_KEY:
        raise UnsafeSettings(
            f"SECRET_KEY is {'too short' if key else 'not set'}: production settings (APP_ENV is not "
            f"'development') need one of at least {MIN_SECRET_KEY} characters, the same for every process, e.g. "
            "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))'). "
            "For the embedded demo, use make run (APP_ENV=development)."
        )
    if not (app.config.get("AUDIT_KEYS") or app.config.get("AUDIT_KEY_FILE")):
        raise UnsafeSettings(
            "AUDIT_KEYS or AUDIT_KEY_FILE is not set: production settings never make up the key that seals the "
            "record and security logs. Set AUDIT_KEYS='<id>:<secret of 32+ characters>' (or a file of them) and "
            "keep a copy apart from the database's backups."
        )


def refuse_demo_accounts(app: Flask) -> None:
    """Production settings do not serve while the demo's logins work (create_app calls this when it
    is not making the app for a flask command: those are how a database is upgraded and accounts made)."""
    if is_development(app):
        return
    with app.app_context():
        try:
            emails = active_demo_accounts()
        finally:  # nothing kept open from the check: each worker connects when it serves
            db.session.remove()
            db.engine.dispose()
    if emails:
        raise UnsafeSettings(
            f"Demo accounts are active ({', '.join(emails)}): production settings refuse to start with them. "
            "This database holds the demo data: use a new database (flask --app wsgi db upgrade, then "
            "create-user), or disable every demo account under Users first."
        )


SQLITE_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


def configure_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    sqlite = uri.startswith("sqlite")
    if sqlite:
        # The driver opens a transaction at its first write, so reads before it run outside any and never
        # hold the write lock; IMMEDIATE makes that BEGIN take the lock at once. A writer waits for the lock
        # before it reads anything of the transaction (no snapshot it could not upgrade: no "database is
        # locked" halfway through), and several writers take turns in the busy timeout.
        connect_args = {"timeout": 15, "isolation_level": "IMMEDIATE"}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": connect_args}
        if uri.startswith("sqlite:///") and uri != "sqlite://":
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_DIR / "migrations"), render_as_batch=True)
    if sqlite:
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_synchronous(app.config["SQLITE_SYNCHRONOUS"]))
            event.listen(db.engine, "before_cursor_execute", _savepoint_begins_immediately)
            if uri.startswith("sqlite:///") and uri != "sqlite://":  # a file several processes may write
                WriteTurns(uri.removeprefix("sqlite:///") + "-writers").install(db.engine)


def _savepoint_begins_immediately(conn, _cursor, statement, *_args) -> None:
    """A SAVEPOINT (begin_nested) before any write would open a deferred transaction, whose reads could
    leave it unable to take the lock later ("database is locked" halfway): it begins as the driver's do."""
    if statement.startswith("SAVEPOINT"):
        dbapi_connection = conn.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN IMMEDIATE")


def _sqlite_synchronous(level: str):
    """SQLite's fsync policy for this app's connections (README: Durability): with WAL, NORMAL syncs at
    checkpoints only, FULL at every commit."""
    level = (level or "").strip().upper()
    if level not in SQLITE_SYNCHRONOUS:
        raise UnsafeSettings(f"SQLITE_SYNCHRONOUS is {level!r}: use one of {', '.join(SQLITE_SYNCHRONOUS)}.")

    def set_synchronous(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA synchronous={level}")
        cursor.close()

    return set_synchronous


class WriteTurns:
    """Writers to one SQLite file take turns at a lock file beside it (flock) before their transaction's
    first write. SQLite's own busy handler sleeps longer at each try (up to 100 ms), so a writer that
    finds the lock taken keeps missing the moments it is free while a busy peer takes it again and again
    (seconds behind two or four writers); asking for the turn every millisecond, the next writer gets
    it as soon as it is free. After 15 s (the busy timeout) the writer goes on and SQLite decides."""

    WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")  # where a write transaction begins
    TIMEOUT = 15.0

    def __init__(self, path: str):
        self.path = path

    def install(self, engine) -> None:
        event.listen(engine, "before_cursor_execute", self.before_statement)
        # The turn ends as the transaction does: at its commit or rollback (the next writer's BEGIN IMMEDIATE
        # waits the moment the driver's commit takes), or when the connection goes back to the pool.
        event.listen(engine, "commit", self.end_transaction)
        event.listen(engine, "rollback", self.end_transaction)
        event.listen(engine, "checkin", self.end_turn)
        event.listen(engine, "close", self.close)

    def before_statement(self, conn, _cursor, statement, *_args) -> None:
        record = conn.connection
        if record.dbapi_connection.in_transaction:
            return
        if record.info.get("write_turn"):  # its transaction ended behind the engine's back (the driver's own)
            self.end_turn(None, record)
        if statement.lstrip()[:9].upper().startswith(self.WRITES):
            self._take_turn(record.info)

    def _take_turn(self, info: dict) -> None:
        if "write_turn_fd" not in info:
            info["write_turn_fd"] = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.TIMEOUT
        while True:
            try:
                fcntl.flock(info["write_turn_fd"], fcntl.LOCK_EX | fcntl.LOCK_NB)
                info["write_turn"] = True
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.001)

    def end_transaction(self, conn) -> None:
        self.end_turn(None, conn.connection)

    def end_turn(self, _dbapi_connection, record) -> None:
        if record.info.pop("write_turn", False):
            fcntl.flock(record.info["write_turn_fd"], fcntl.LOCK_UN)

    def close(self, _dbapi_connection, record) -> None:
        self.end_turn(None, record)
        if "write_turn_fd" in record.info:
            os.close(record.info.pop("write_turn_fd"))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite: foreign keys on, WAL for concurrent readers, wait instead of failing when busy."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


def configure_audit_keys(app: Flask) -> None:
    """The keys that seal the logs: a start-up error, not a first failed write, when they are unusable."""
    app.extensions["audit_keys"] = sealing.load(app.config, app.instance_path)


def configure_auth(app: Flask) -> None:

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_user)
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config["SESSION_COOKIE_SECURE"] and not app.config.get("SESSION_COOKIE_DOMAIN"):
        # Over HTTPS: a cookie named __Host- is only accepted Secure, for this host, on path / (no subdomain
        # or plain-HTTP page can plant or overwrite it).
        app.config.setdefault("REMEMBER_COOKIE_SECURE", True)
        for setting, name in (("SESSION_COOKIE_NAME", "session"), ("REMEMBER_COOKIE_NAME", "remember_token")):
            app.config[setting] = "__Host-" + app.config.get(setting, name).removeprefix("__Host-")
        app.config["SESSION_COOKIE_PATH"] = app.config["REMEMBER_COOKIE_PATH"] = "/"


def configure_proxy(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, the client's address, scheme and host come from their
    X-Forwarded-* headers (for rate limits, logs and HTTPS); with 0, those headers are ignored."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def configure_i18n(app: Flask) -> None:

    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )
    install_template_gettext(app.jinja_env)


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
        queues_bp,
        search_bp,
        replies_bp,
        notifications_bp,
        scheduler_bp,
        mail_bp,
        settings_bp,
        catalogues_bp,
        security_log_bp,
        review_bp,
        record_log_bp,
        portal_bp,
        api_bp,
        insight_bp,
        insight_risk_bp,
        ops_bp,
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
        # Asked only when no view chose (the API did): the user, expired by the view's commit, is not read again.
        if "Cache-Control" not in response.headers and (
            request.path.startswith(PORTAL_PATHS) or current_user.is_authenticated
        ):
            response.headers["Cache-Control"] = "no-store"  # a customer's case is private too
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
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


_TRACKING_TOKEN = re.compile(r"/track/[^/\s?\"]+")


def _hide_token(value):
    return _TRACKING_TOKEN.sub("/track/[token]", value) if isinstance(value, str) else value


class _HideTrackingTokens(logging.Filter):
    """Request logs never show a customer's tracking token. The arguments keep their shape: werkzeug
    logs with a tuple, gunicorn's access log with one dict (its atoms: r, U, the request line ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):  # in place: gunicorn's dict answers "-" for an atom not there
            record.args.update({name: _hide_token(value) for name, value in record.args.items()})
        elif record.args:
            record.args = tuple(_hide_token(value) for value in record.args)
        record.msg = _hide_token(str(record.msg))
        return True


def configure_logging(app: Flask) -> None:
    for name in ("werkzeug", "gunicorn.access"):  # the dev server's and gunicorn's request logs
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _HideTrackingTokens) for existing in logger.filters):
            logger.addFilter(_HideTrackingTokens())
    # The security log's lines are kept at INFO whatever the root's level. They reach the handler Flask
    # gives its app's logger ("ticketing", the parent of "ticketing.security"), made when first asked for.
    # Alembic's fileConfig disables every logger that exists when a migration runs in this process: not these.
    for logger in (app.logger, logging.getLogger(f"{app.logger.name}.security")):
        logger.disabled = False
    logging.getLogger(f"{app.logger.name}.security").setLevel(logging.INFO)


def configure_cli(app: Flask) -> None:

    register(app)


def configure_templates(app: Flask) -> None:

    app.jinja_env.globals.update(V=vocabulary, label=vocabulary.label_for, when=when, day=day, duration=duration)
    app.jinja_env.globals.update(labelled=labelled, aside=aside, colon=colon)
    app.jinja_env.globals.update(nav_section=navigation.section)
    app.jinja_env.globals.update(
        category_label=catalogue.category_label, tier_label=catalogue.tier_label, product_label=catalogue.product_label
    )
    app.context_processor(template_context)
