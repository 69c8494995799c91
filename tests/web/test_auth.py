"""Logging in and out, sessions that end when they should, and no account enumeration."""

import re

from sqlalchemy import select

from tests.conftest import PASSWORD, login
from ticketing.auth.models import User
from ticketing.extensions import db


def test_login_with_the_right_password_opens_the_queue(client, agent):
    response = login(client, agent.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/queue")
    assert client.get("/queue").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(client, agent):
    wrong = login(client, agent.email, "not the password")
    unknown = login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert b"Email or password is incorrect" in wrong.data

    def page(response, email):  # the same page but for the echoed email and the per-request CSRF token
        return re.sub(rb'name="csrf_token" value="[^"]*"', b"", response.data.replace(email, b""))

    assert page(wrong, b"agent@example.com") == page(unknown, b"nobody@example.com")


def test_login_never_redirects_to_another_site(client, agent):
    response = client.post("/login?next=https://evil.example/x", data={"email": agent.email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/queue")


def test_logging_out_ends_the_users_other_sessions(app, agent):
    first, second = app.test_client(), app.test_client()
    login(first, agent.email)
    login(second, agent.email)
    first.post("/logout")
    assert second.get("/queue").status_code == 302


def test_changing_password_ends_other_sessions_but_keeps_this_one(app, agent):
    this, other = app.test_client(), app.test_client()
    login(this, agent.email)
    login(other, agent.email)
    response = this.post(
        "/account",
        data={
            "password-current_password": PASSWORD,
            "password-new_password": "a brand new password",
            "password-confirm": "a brand new password",
        },
    )
    assert response.status_code == 302
    assert this.get("/queue").status_code == 200
    assert other.get("/queue").status_code == 302
    assert login(app.test_client(), agent.email, "a brand new password").status_code == 302


def test_disabling_a_user_ends_their_sessions(app, agent, admin):
    agents_client, admins_client = app.test_client(), app.test_client()
    login(agents_client, agent.email)
    login(admins_client, admin.email)
    response = admins_client.post(f"/admin/users/{agent.id}", data={"role": "agent", "new_password": ""})
    assert response.status_code == 302
    assert agents_client.get("/queue").status_code == 302
    assert login(app.test_client(), agent.email).status_code == 200  # refused: disabled


def test_passwords_are_stored_hashed_with_scrypt(app, agent):
    stored = db.session.scalars(select(User.password_hash).where(User.id == agent.id)).one()
    assert stored.startswith("scrypt:") and PASSWORD not in stored


def test_login_is_rate_limited(app, agent):
    app.config["LOGIN_RATE_LIMIT"] = "5 per minute"
    client = app.test_client()
    codes = [login(client, agent.email, "wrong password").status_code for _ in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    assert b"Too many attempts" in login(client, agent.email).data


def test_admin_creates_a_user_who_can_log_in(client, admin):
    login(client, admin.email)
    response = client.post(
        "/admin/users/",
        data={
            "name": "New Agent",
            "email": "new@example.com",
            "role": "agent",
            "password": "long enough pw",
            "locale": "en",
        },
    )
    assert response.status_code == 302
    assert login(client.application.test_client(), "new@example.com", "long enough pw").status_code == 302


def test_user_form_cannot_create_an_account_with_a_taken_email(client, admin, agent):
    login(client, admin.email)
    response = client.post(
        "/admin/users/",
        data={"name": "Dup", "email": agent.email, "role": "admin", "password": "long enough pw", "locale": "en"},
    )
    assert response.status_code == 422
    assert b"already exists" in response.data
