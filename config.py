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


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or os.urandom(32).hex()
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (f"sqlite:///{INSTANCE_DIR / 'ticketing.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
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
    PORTAL_RATE_LIMIT = os.environ.get("PORTAL_RATE_LIMIT", "5 per hour")  # complaints per address
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
    QUEUE_PAGE_SIZE = _env_int("QUEUE_PAGE_SIZE", 25)
    BELL_POLL_SECONDS = _env_int("BELL_POLL_SECONDS", 30)  # how often an open page asks for the unread count
    REOPEN_DAYS = _env_int("REOPEN_DAYS", 30)  # a customer may reopen a closed case this long
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
    DISPATCH_INTERVAL_SECONDS = _env_int("DISPATCH_INTERVAL_SECONDS", 30)
    DISPATCH_BATCH = _env_int("DISPATCH_BATCH", 200)
    DISPATCH_MAX_ATTEMPTS = _env_int("DISPATCH_MAX_ATTEMPTS", 5)
    DISPATCH_LEASE_SECONDS = _env_int("DISPATCH_LEASE_SECONDS", 300)  # a claim older than this was lost in a crash
    DIGEST_HOUR = _env_int("DIGEST_HOUR", 8)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    LOGIN_RATE_LIMIT = "1000 per minute"  # the rate-limit tests lower these
    PORTAL_RATE_LIMIT = "1000 per minute"
    API_RATE_LIMIT = "1000 per minute"
    # scrypt at 1/32 of the cost (about 3 ms instead of 100 ms): hundreds of test users are hashed;
    # still scrypt, so the stored hashes keep their "scrypt:" prefix.
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"
    UPLOAD_DIR = str(Path(tempfile.gettempdir()) / f"ticketing-test-uploads-{os.getpid()}")
