"""Configuration: development defaults, every value overridable from the environment."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or os.urandom(32).hex()
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{INSTANCE_DIR / 'ticketing.sqlite'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None  # a form left open during a long phone call must still submit

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("DEFAULT_TIMEZONE", "Asia/Shanghai")
    LANGUAGES = ("en", "zh_CN")

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")

    # Empowerment (员工授权): the compensation each role may grant without approval.
    COMPENSATION_LIMITS = {
        "agent": _env_int("COMPENSATION_LIMIT_AGENT", 200),
        "supervisor": _env_int("COMPENSATION_LIMIT_SUPERVISOR", 5000),
        "admin": _env_int("COMPENSATION_LIMIT_ADMIN", 5000),
    }
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "CNY")

    # Hours from intake to first response / to a proposed resolution, per priority.
    DEADLINE_HOURS = {
        "urgent": (1, 24),
        "high": (4, 48),
        "normal": (8, 72),
        "low": (24, 120),
    }
    QUEUE_PAGE_SIZE = _env_int("QUEUE_PAGE_SIZE", 25)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    LOGIN_RATE_LIMIT = "1000 per minute"  # the rate-limit test lowers it
