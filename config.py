"""Configuration: development defaults. Deployment values (each `os.environ.get` / `_env_int` below)
are read from the environment; the rest (the policy tables DEADLINE_HOURS, CATEGORY_DEADLINE_HOURS and
SERVICE_GUARANTEE, cookie flags, the request size, the password hash) are set here only: subclass
Config and pass it to create_app() to change them."""

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


_HTTPS = os.environ.get("PUBLIC_URL", "").startswith("https://")


class Config:
    # APP_ENV=development (make run, flask serve, the tests): a missing SECRET_KEY or audit key is made up and
    # demo accounts may log in. Anything else, unset included (gunicorn wsgi:app): production, which refuses
    # to start without them or with demo accounts active (ticketing/setup.py configure_production).
    APP_ENV = os.environ.get("APP_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")  # production: required, at least 32 characters
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (f"sqlite:///{INSTANCE_DIR / 'ticketing.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # SQLite only (README: Durability): NORMAL syncs the write-ahead log at checkpoints, not at each commit;
    # a power cut or OS crash may lose the last commits before it, never corrupts. FULL: every commit synced.
    SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Served over HTTPS (PUBLIC_URL https://…): Secure cookies, named with the __Host- prefix.
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "1" if _HTTPS else "0") == "1"
    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host (0: none, trust no header).
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)
    REMEMBER_COOKIE_HTTPONLY = True
    # werkzeug's generate_password_hash method; "scrypt" is its default cost (N=32768, r=8, p=1).
    # Not read from the environment, so a deployment cannot weaken it by accident.
    PASSWORD_HASH_METHOD = "scrypt"
    WTF_CSRF_TIME_LIMIT = None  # a form left open during a long phone call must still submit

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai")
    LANGUAGES = ("en", "zh_CN")

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Failed logins per e-mail address, from any number of addresses (ticketing/auth/throttle.py).
    LOGIN_ACCOUNT_RATE_LIMIT = os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "10 per 15 minutes")
    PORTAL_RATE_LIMIT = os.environ.get("PORTAL_RATE_LIMIT", "5 per hour")  # complaints per address
    # The lost-link form answers no sooner than this, match or not (ticketing/portal/views.py lost_link).
    LOST_LINK_ANSWER_SECONDS = 0.25
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")  # requests per API token

    # Empowerment (员工授权): the compensation each role may grant without approval.
    COMPENSATION_LIMITS = {
        "agent": _env_int("COMPENSATION_LIMIT_AGENT", 200),
        "supervisor": _env_int("COMPENSATION_LIMIT_SUPERVISOR", 5000),
        "admin": _env_int("COMPENSATION_LIMIT_ADMIN", 20000),
    }
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "CNY")

    # Hours from intake to first response / to a proposed resolution, per priority.
    DEADLINE_HOURS = {
        "urgent": (1, 24),
        "high": (4, 48),
        "normal": (8, 72),
        "low": (24, 120),
    }
    # Optional per-category override of DEADLINE_HOURS, e.g. {"billing": (4, 48)}.
    CATEGORY_DEADLINE_HOURS: dict = {}
    FOLLOW_UP_DELAY_HOURS = _env_int("FOLLOW_UP_DELAY_HOURS", 48)  # call back two days after the fix
    REVIEW_DELAY_HOURS = _env_int("REVIEW_DELAY_HOURS", 24)  # a summary waits this long for review
    PROMISE_WARNING_HOURS = _env_int("PROMISE_WARNING_HOURS", 24)
    FOLLOW_UP_NOTICE_HOURS = _env_int("FOLLOW_UP_NOTICE_HOURS", 4)  # the customer hears the call is coming
    AT_RISK_FRACTION = float(os.environ.get("AT_RISK_FRACTION", "0.75"))  # warn when 75% of the time is used
    # Business hours, e.g. BUSINESS_HOURS=09:00-18:00 BUSINESS_DAYS=0,1,2,3,4 HOLIDAYS=2026-10-01,2026-10-02;
    # unset: deadlines run around the clock (24x7).
    BUSINESS_HOURS = os.environ.get("BUSINESS_HOURS") or None
    BUSINESS_DAYS = [int(d) for d in os.environ.get("BUSINESS_DAYS", "0,1,2,3,4,5,6").split(",") if d]
    HOLIDAYS = [d.strip() for d in os.environ.get("HOLIDAYS", "").split(",") if d.strip()]
    # Service guarantee: when the resolution deadline is breached, suggest this compensation
    # (type, amount or None) for the assignee to confirm.
    SERVICE_GUARANTEE = {
        "urgent": [("voucher", 100), ("manager_call", None)],
        "high": [("voucher", 50), ("apology_letter", None)],
        "normal": [("voucher", 20)],
        "low": [("apology_letter", None)],
    }
    # A missed resolution deadline escalates the case by itself: one priority level up, once per case.
    AUTO_ESCALATE_ON_BREACH = os.environ.get("AUTO_ESCALATE_ON_BREACH", "0") == "1"
    QUEUE_PAGE_SIZE = _env_int("QUEUE_PAGE_SIZE", 25)
    BELL_POLL_SECONDS = _env_int("BELL_POLL_SECONDS", 30)  # how often an open page asks for the unread count
    REOPEN_DAYS = _env_int("REOPEN_DAYS", 30)  # a customer may reopen a closed case this long
    SURVEY_REMINDER_DAYS = _env_int("SURVEY_REMINDER_DAYS", 3)  # one reminder to answer the survey; 0: none
    # A customer's private link stops working this long after the case closed (a reopened case's work again).
    PORTAL_LINK_DAYS_AFTER_CLOSURE = _env_int("PORTAL_LINK_DAYS_AFTER_CLOSURE", 90)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR") or str(INSTANCE_DIR / "uploads")  # outside the web root
    MAX_ATTACHMENT_BYTES = _env_int("MAX_ATTACHMENT_BYTES", 5_000_000)
    MAX_CONTENT_LENGTH = 20_000_000  # a whole request, with three attachments
    RECORD_LOG_PAGE_SIZE = _env_int("RECORD_LOG_PAGE_SIZE", 50)

    # Reminders: SMTP when SMTP_HOST is set, else in-app only.
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = _env_int("SMTP_PORT", 25)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "0") == "1"
    SMTP_TIMEOUT = _env_int("SMTP_TIMEOUT", 10)
    MAIL_FROM = os.environ.get("MAIL_FROM", "service-desk@localhost")
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    # E-mail intake (ticketing/notify/intake.py): the mailboxes complaints and replies are read from, as
    # space-separated URLs — imaps://user:password@host:993/INBOX (TLS), imap://… (STARTTLS), imap+plain://…
    # (no TLS: a server on this machine only); ?name=… names one. The password percent-encoded.
    MAIL_INTAKE = os.environ.get("MAIL_INTAKE") or None
    MAIL_INTAKE_CA_FILE = os.environ.get("MAIL_INTAKE_CA_FILE") or None  # trust this CA for the IMAP server
    MAIL_INTAKE_TIMEOUT = _env_int("MAIL_INTAKE_TIMEOUT", 30)
    MAIL_INTAKE_INTERVAL_SECONDS = _env_int("MAIL_INTAKE_INTERVAL_SECONDS", 60)
    MAIL_INTAKE_MAX_BYTES = _env_int("MAIL_INTAKE_MAX_BYTES", 30_000_000)  # a larger mail: its headers kept, not filed
    # Where customers' replies to our mail go (the intake mailbox's address); unset: replies go to MAIL_FROM.
    MAIL_REPLY_TO = os.environ.get("MAIL_REPLY_TO") or None
    DISPATCH_INTERVAL_SECONDS = _env_int("DISPATCH_INTERVAL_SECONDS", 15)
    DISPATCH_MAX_ATTEMPTS = _env_int("DISPATCH_MAX_ATTEMPTS", 5)
    # A message's claim older than this was lost in a crash and is taken again (with the interval:
    # within 55 s). It must outlast one message's sending: keep it above 3 x SMTP_TIMEOUT.
    DISPATCH_LEASE_SECONDS = _env_int("DISPATCH_LEASE_SECONDS", 40)
    DIGEST_HOUR = _env_int("DIGEST_HOUR", 8)
    # Long reports (ticketing/scheduling/reports.py): an Insight page over more cases than REPORT_LIVE_CASES is
    # worked out by the scheduler (checking every REPORT_INTERVAL_SECONDS), not by the web worker; a result is
    # served as it is for REPORT_FRESH_SECONDS, and after that with its time while a fresher one is worked out.
    REPORT_LIVE_CASES = _env_int("REPORT_LIVE_CASES", 10_000)
    REPORT_INTERVAL_SECONDS = _env_int("REPORT_INTERVAL_SECONDS", 5)
    REPORT_FRESH_SECONDS = _env_int("REPORT_FRESH_SECONDS", 600)
    # The keys that seal the record and security logs, never stored in the database (ticketing/sealing.py):
    # AUDIT_KEYS="<id>:<secret> …" or a file of them; the last key seals, all of them verify.
    AUDIT_KEYS = os.environ.get("AUDIT_KEYS")
    AUDIT_KEY_FILE = os.environ.get("AUDIT_KEY_FILE")
    # Where the daily anchor of every case's chain head is written, and who is mailed a copy (none: nobody).
    # Keep the folder on storage the database's users cannot write: a copy in the same hands anchors nothing.
    AUDIT_ANCHOR_DIR = os.environ.get("AUDIT_ANCHOR_DIR") or str(INSTANCE_DIR / "anchors")
    AUDIT_ANCHOR_EMAIL = os.environ.get("AUDIT_ANCHOR_EMAIL")

    # Watching it (ticketing/ops): /readyz wants SCHEDULER_PROCESSES scheduler processes beating within three
    # heartbeats, and the oldest due reminder sent within READY_MAX_DISPATCH_LAG_SECONDS. /metrics answers a
    # bearer METRICS_TOKEN, or without one only a request from this machine that no proxy forwarded.
    SCHEDULER_PROCESSES = _env_int("SCHEDULER_PROCESSES", 1)
    SCHEDULER_HEARTBEAT_SECONDS = _env_int("SCHEDULER_HEARTBEAT_SECONDS", 15)
    SCHEDULER_NAME = os.environ.get("SCHEDULER_NAME")  # default host:pid; a systemd unit may name its instance
    READY_MAX_DISPATCH_LAG_SECONDS = _env_int("READY_MAX_DISPATCH_LAG_SECONDS", 300)
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")  # json: one JSON object a line, with the request id
    # The header a proxy's request id comes in (its value reused when it is a plain token); unset: made here.
    REQUEST_ID_HEADER = os.environ.get("REQUEST_ID_HEADER", "X-Request-ID")


class TestConfig(Config):
    TESTING = True
    APP_ENV = "development"
    SECRET_KEY = "test-secret-key"
    AUDIT_KEYS = "test1:a-test-key-that-is-long-enough-to-seal-with"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    LOGIN_RATE_LIMIT = "1000 per minute"  # the rate-limit tests lower these
    LOGIN_ACCOUNT_RATE_LIMIT = "1000 per minute"
    LOST_LINK_ANSWER_SECONDS = 0.0  # tests/security/test_login_timing.py sets its own
    PORTAL_RATE_LIMIT = "1000 per minute"
    API_RATE_LIMIT = "1000 per minute"
    # scrypt at 1/32 of the cost (about 3 ms instead of 100 ms): hundreds of test users are hashed;
    # still scrypt, so the stored hashes keep their "scrypt:" prefix.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    UPLOAD_DIR = str(Path(tempfile.gettempdir()) / f"ticketing-test-uploads-{os.getpid()}")
    AUDIT_ANCHOR_DIR = str(Path(tempfile.gettempdir()) / f"ticketing-test-anchors-{os.getpid()}")
