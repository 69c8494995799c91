"""Production settings (APP_ENV not "development") refuse to start without their secrets or with demo
accounts active; demo passwords are made per installation; HTTPS, proxies and the portal's caching."""

import logging
import re

import click
import pytest
from sqlalchemy import select

from config import TestConfig
from tests.conftest import PASSWORD, IsolatedClient, login
from ticketing import create_app
from ticketing.auth.models import User
from ticketing.auth.services import create_user
from ticketing.extensions import db
from ticketing.setup import UnsafeSettings, _HideTrackingTokens, configure_proxy

KEY = "k" * 40


def _config(url="sqlite://", **settings):
    values = {"APP_ENV": "production", "SECRET_KEY": KEY, "SQLALCHEMY_DATABASE_URI": url, **settings}
    return type("ProductionConfig", (TestConfig,), values)


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "x" * 31}, "SECRET_KEY is too short"),
        ({"AUDIT_KEYS": None, "AUDIT_KEY_FILE": None}, "AUDIT_KEYS or AUDIT_KEY_FILE is not set"),
    ],
)
def test_production_settings_refuse_to_start_without_their_secrets(settings, says):
    with pytest.raises(UnsafeSettings, match=says):
        create_app(_config(**settings))


def test_development_makes_up_a_missing_secret_key_and_production_keeps_a_given_one():
    made = create_app(_config(APP_ENV="development", SECRET_KEY=None)).config["SECRET_KEY"]
    assert len(made) >= 32 and made != create_app(_config(APP_ENV="development", SECRET_KEY=None)).config["SECRET_KEY"]
    assert create_app(_config()).config["SECRET_KEY"] == KEY


@pytest.fixture
def shared_url(database_url, tmp_path):
    """A database two apps both see (in-memory SQLite is one per app)."""
    return f"sqlite:///{tmp_path / 'shared.sqlite'}" if database_url == "sqlite://" else database_url


@pytest.fixture
def development(shared_url):
    app = create_app(_config(shared_url, APP_ENV="development"))
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def test_production_settings_refuse_to_serve_while_a_demo_account_is_active(development, shared_url):
    create_app(_config(shared_url))  # a real account only: starts
    create_user(email="real@example.com", password=PASSWORD, role="admin")
    demo = create_user(email="Agent@demo.local", password=PASSWORD, role="agent")
    db.session.commit()
    with pytest.raises(UnsafeSettings, match=r"Demo accounts are active \(agent@demo\.local\)"):
        create_app(_config(shared_url))
    with click.Context(click.Command("flask")):  # a flask command (db upgrade, create-user) still runs
        create_app(_config(shared_url))
    demo.active = False
    db.session.commit()
    create_app(_config(shared_url))


def test_an_unmigrated_database_does_not_stop_production_settings(shared_url):
    create_app(_config(shared_url))


def _logins(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+\w+\s+(\S+@demo\.local)\s+/\s+(\S+)$", output, re.MULTILINE))


def test_demo_logins_get_passwords_made_for_this_installation_printed_once(app, runner):
    loaded = runner.invoke(args=["demo-data"])
    assert loaded.exit_code == 0, loaded.output
    first = _logins(loaded.output)
    assert set(first) == {
        "agent@demo.local",
        "wang.fang@demo.local",
        "li.qiang@demo.local",
        "supervisor@demo.local",
        "admin@demo.local",
    }
    assert len(set(first.values())) == 5 and all(len(password) >= 16 for password in first.values())
    hashes = db.session.scalars(select(User.password_hash)).all()
    assert not [password for password in first.values() if any(password in stored for stored in hashes)]
    client = app.test_client()
    assert login(client, "agent@demo.local", first["agent@demo.local"]).status_code == 302

    again = runner.invoke(args=["demo-data", "--if-empty"])
    assert "not loaded again" in again.output and not _logins(again.output)
    renewed = runner.invoke(args=["demo-data", "--new-passwords"])
    second = _logins(renewed.output)
    assert renewed.exit_code == 0 and set(second) == set(first) and not set(second.values()) & set(first.values())
    assert login(app.test_client(), "admin@demo.local", first["admin@demo.local"]).status_code == 200  # old: refused
    assert login(app.test_client(), "admin@demo.local", second["admin@demo.local"]).status_code == 302


def test_demo_data_refuses_a_database_with_accounts_of_its_own(app, runner, admin):
    refused = runner.invoke(args=["demo-data"])
    assert refused.exit_code != 0 and "accounts of its own" in refused.output
    assert db.session.scalars(select(User.email)).all() == [admin.email]
    assert "no demo data here" in runner.invoke(args=["demo-data", "--new-passwords"]).output


@pytest.mark.parametrize("command", ["demo-data", "serve"])
def test_the_development_commands_refuse_production_settings(command):
    app = create_app(_config())
    with app.app_context():
        result = app.test_cli_runner().invoke(args=[command])
    assert result.exit_code != 0 and f"flask {command} is for development" in result.output


def _https_app(**settings):
    app = create_app(_config(APP_ENV="development", SESSION_COOKIE_SECURE=True, **settings))
    app.test_client_class = IsolatedClient
    return app


def test_over_https_cookies_are_secure_and_host_only(app, agent):
    secure = _https_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    assert secure.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert secure.config["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    plain = login(app.test_client(), agent.email).headers["Set-Cookie"]
    assert plain.startswith("session=") and "Secure" not in plain


def test_a_secure_session_cookie_is_set_with_the_host_prefix(app, agent):
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME="__Host-session", SESSION_COOKIE_PATH="/")
    cookie = login(app.test_client(), agent.email).headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert (
        client.get("/login", base_url="https://localhost")
        .headers["Strict-Transport-Security"]
        .startswith("max-age=31536000")
    )


def test_portal_pages_are_never_cached(client):
    for path in ("/complain", "/track/lost", "/track/no-such-token"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


def test_behind_trusted_proxies_limits_see_each_client_and_https(app, agent):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    proxied = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    for proxies, separate in ((0, False), (1, True)):
        if proxies:
            app.config["TRUSTED_PROXIES"] = proxies
            configure_proxy(app)
        client = app.test_client()
        for n in range(2):
            headers = {"X-Forwarded-For": f"198.51.100.{n + 10 * proxies}"}
            client.post("/login", data={"email": agent.email, "password": "wrong"}, headers=headers)
        third = client.post("/login", data={"email": agent.email, "password": "wrong"}, headers=proxied)
        assert (third.status_code != 429) is separate
        assert ("Strict-Transport-Security" in client.get("/login", headers=proxied).headers) is separate


def test_the_log_filter_masks_tokens_in_gunicorns_dict_arguments():
    class Atoms(dict):  # like gunicorn's SafeAtoms: "-" for an atom not there
        def __getitem__(self, key):
            return super().__getitem__(key) if key in self else "-"

    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '"%(r)s" %(s)s %(x)s', None, None)
    record.args = Atoms(r="GET /track/abc123secret HTTP/1.1", s="200")
    assert _HideTrackingTokens().filter(record)
    assert record.getMessage() == '"GET /track/[token] HTTP/1.1" 200 -'
    werkzeug = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s', ("GET /track/abc?x=1", 200), None)
    _HideTrackingTokens().filter(werkzeug)
    assert werkzeug.getMessage() == '"GET /track/[token]?x=1" 200'
