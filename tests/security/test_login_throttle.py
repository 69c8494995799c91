"""Failed logins are counted per account as well as per address: guesses at one account from many
addresses stop at LOGIN_ACCOUNT_RATE_LIMIT, for a window only, with one message whether or not the
account exists; counted in the rate limiter's storage, so on Redis every process counts together."""

import re
import time
import uuid

import pytest

from config import TestConfig
from tests.conftest import PASSWORD, login
from ticketing import create_app
from ticketing.auth.security_log import SecurityEntry
from ticketing.extensions import db

REDIS = "redis://127.0.0.1:6379"
REFUSED = "Too many failed logins with this email address."


def _guess(client, email, password="a wrong guess, again", address="10.0.0.1"):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_guesses_from_twenty_addresses_at_one_account_stop_at_the_limit(app, client, agent):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "10 per 15 minutes"
    codes = [_guess(client, agent.email, address=f"10.0.0.{n % 20}").status_code for n in range(240)]
    assert codes[:10] == [200] * 10 and set(codes[10:]) == {429}
    refused = _guess(client, agent.email, password=PASSWORD, address="192.0.2.7")  # the owner, elsewhere
    assert refused.status_code == 429 and REFUSED in refused.get_data(as_text=True)
    assert client.get("/queue").status_code == 302  # not signed in: sent to the login page
    reasons = db.session.scalars(db.select(SecurityEntry.details)).all()
    assert sum(1 for details in reasons if details and details.get("reason") == "throttled") == 231


def test_another_account_is_not_slowed_down(app, client, agent, supervisor):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per 15 minutes"
    for _ in range(5):
        _guess(client, agent.email)
    assert login(client, supervisor.email).status_code == 302


def test_the_refusal_says_nothing_about_whether_the_account_exists(app, agent):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per 15 minutes"
    pages = {}
    for email in (agent.email, "nobody@example.com"):
        client = app.test_client()
        answers = [_guess(client, email) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        pages[email] = re.sub(
            r'name="csrf_token" value="[^"]*"|value="[^"]*@example.com"', "", answers[-1].get_data(as_text=True)
        )
    assert pages[agent.email] == pages["nobody@example.com"] or _untimed(pages[agent.email]) == _untimed(
        pages["nobody@example.com"]
    )  # the two windows began a moment apart: across a minute boundary only the time may differ
    assert re.search(r"Try again after [^.]*\b\d{1,2}:\d\d\.", pages[agent.email])  # to the minute, no seconds


def _untimed(page):
    return re.sub(r"Try again after [^.]*\.", "", page)


def test_it_is_a_throttle_not_a_lock(app, client, agent):
    """Once the oldest failure is out of the window, the owner's right password works again."""
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per 2 seconds"
    for _ in range(3):
        _guess(client, agent.email)
    assert login(client, agent.email).status_code == 429
    time.sleep(2.1)
    assert login(client, agent.email).status_code == 302


def test_the_address_is_counted_however_it_is_typed(app, client, agent):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per 15 minutes"
    for email in ("agent@example.com", "AGENT@example.com", " Agent@Example.com "):
        _guess(client, email)
    assert login(client, agent.email).status_code == 429


def test_a_successful_login_starts_the_count_again(app, agent):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "3 per 15 minutes"
    client = app.test_client()
    _guess(client, agent.email)
    _guess(client, agent.email)
    assert login(client, agent.email).status_code == 302
    other = app.test_client()
    assert [_guess(other, agent.email).status_code for _ in range(4)] == [200, 200, 200, 429]


# --- shared by every process, on Redis ---------------------------------------------------------------


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return connection


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own, and its keys removed afterwards."""
    connection = _redis_or_skip()
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    yield prefix
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)


def _process(database_url, prefix):
    """An app as another web process would have it: its own storage connection, the same Redis."""
    config = type(
        "RedisConfig",
        (TestConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_STORAGE_URI": REDIS,
            "RATELIMIT_KEY_PREFIX": prefix,
            "LOGIN_ACCOUNT_RATE_LIMIT": "10 per 15 minutes",
        },
    )
    return create_app(config)


def test_on_redis_two_processes_count_the_same_failures(app, agent, redis_prefix):
    """Two apps, two storage connections, one Redis: 5 failures here and 5 there make the limit."""
    from ticketing.auth import throttle

    email = agent.email  # read here: the other apps' sessions have no such table
    first, second = (_process(app.config["SQLALCHEMY_DATABASE_URI"], redis_prefix) for _ in range(2))
    for process in (first, second):
        with process.test_request_context():
            for _ in range(5):
                throttle.count_failure(email)
    with first.app_context():
        assert throttle._limiter() is not None
    with second.test_request_context():
        assert throttle.refused_until(email) is not None
        assert throttle.refused_until("someone.else@example.com") is None
    with first.test_request_context():
        assert throttle.refused_until(email) is not None
    keys = _redis_or_skip().keys(f"*{redis_prefix}*")
    assert keys and all(email.encode() not in key for key in keys)  # hashed, never the address


def test_on_redis_logins_are_counted_whichever_connection_takes_them(app, agent, redis_prefix):
    """Each login through a storage connection of its own, as if each went to another worker: the
    count lives in Redis, not in a process."""
    app.config.update(RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_KEY_PREFIX=redis_prefix)
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "10 per 15 minutes"
    codes = []
    for n in range(12):
        app.extensions.pop("ticketing.auth.throttle", None)  # a new connection: another process's
        codes.append(_guess(app.test_client(), agent.email, address=f"10.1.0.{n}").status_code)
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
