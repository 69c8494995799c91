"""Fixtures for the scheduler tests: the deadline and reminder settings pinned to known values,
so a developer's environment (BUSINESS_HOURS, SMTP_HOST …) cannot change what the tests expect."""

import pytest

PINNED = dict(
    BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
    BUSINESS_HOURS=None,
    BUSINESS_DAYS=list(range(7)),
    HOLIDAYS=[],
    CATEGORY_DEADLINE_HOURS={},
    FOLLOW_UP_DELAY_HOURS=48,
    REVIEW_DELAY_HOURS=24,
    PROMISE_WARNING_HOURS=24,
    AT_RISK_FRACTION=0.75,
    SMTP_HOST=None,
    SMTP_USERNAME=None,
    SMTP_STARTTLS=False,
    SMTP_TIMEOUT=5,
    MAIL_FROM="service-desk@example.com",
    DISPATCH_MAX_ATTEMPTS=5,
    DISPATCH_LEASE_SECONDS=300,
)


@pytest.fixture
def app(app):
    app.config.update(PINNED)
    return app


@pytest.fixture
def business_hours(app):
    """Monday to Friday, 09:00-18:00 Shanghai time."""
    app.config.update(BUSINESS_HOURS="09:00-18:00", BUSINESS_DAYS=[0, 1, 2, 3, 4])
    return app.config
