"""Personal API tokens: created on the account page or the CLI, shown once, stored hashed, revoked."""

import logging
import re

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from ticketing.auth.tokens import (
    MAX_ACTIVE_TOKENS,
    ApiToken,
    TokenError,
    create_token,
    digest,
    revoke_token,
    token_for,
    tokens_of,
)
from ticketing.extensions import db

SECRET = re.compile(r'id="new-token" value="(tk_[A-Za-z0-9_-]+)"')


def signed_in(app, user):
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    return client


def token_count():
    return db.session.scalar(select(func.count(ApiToken.id)))


def test_creating_a_token_shows_the_secret_once_and_stores_only_its_hash(app, agent):
    client = signed_in(app, agent)
    response = client.post("/account/tokens", data={"token-name": "Weekly report"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Location" not in response.headers
    assert "it will not be shown again" in page
    secret = SECRET.search(page).group(1)
    row = db.session.scalars(select(ApiToken)).one()
    assert row.user_id == agent.id and row.name == "Weekly report" and not row.read_only
    assert row.token_hash == digest(secret)
    assert all(secret not in str(getattr(row, column.key)) for column in ApiToken.__table__.columns)
    with client.session_transaction() as session:
        assert secret not in repr(dict(session))
    again = client.get("/account").get_data(as_text=True)
    assert secret not in again and "it will not be shown again" not in again
    assert f"{row.hint}…" in again and "Weekly report" in again and "read-write" in again


def test_the_read_only_choice_is_kept(app, agent):
    client = signed_in(app, agent)
    page = client.post("/account/tokens", data={"token-name": "BI tool", "token-read_only": "y"}).get_data(as_text=True)
    row = db.session.scalars(select(ApiToken)).one()
    assert row.read_only is True
    assert token_for(SECRET.search(page).group(1)).read_only is True
    assert "read-only" in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "This field is required."),
        ("    ", "This field is required."),
        ("x" * 81, "Field cannot be longer than 80 characters."),
    ],
)
def test_a_token_needs_a_name_of_at_most_80_characters(app, agent, name, message):
    response = signed_in(app, agent).post("/account/tokens", data={"token-name": name})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert token_count() == 0


def test_the_service_trims_and_checks_the_name(app, agent):
    row, _ = create_token(agent, "  nightly export  ")
    assert row.name == "nightly export"
    assert len(create_token(agent, "y" * 80)[0].name) == 80
    for bad in ("", "   ", "z" * 81):
        with pytest.raises(TokenError):
            create_token(agent, bad)


def test_a_user_has_at_most_twenty_active_tokens(app, agent):
    rows = [create_token(agent, f"token {n}")[0] for n in range(MAX_ACTIVE_TOKENS)]
    db.session.commit()
    response = signed_in(app, agent).post("/account/tokens", data={"token-name": "one too many"})
    assert response.status_code == 422
    assert "revoke one that is no longer used first" in response.get_data(as_text=True)
    assert token_count() == MAX_ACTIVE_TOKENS
    revoke_token(agent, rows[0])
    assert create_token(agent, "room again")[0].active


def test_a_disabled_user_gets_no_new_tokens(app, agent):
    agent.active = False
    with pytest.raises(TokenError):
        create_token(agent, "anything")


def test_tokens_are_listed_active_first_then_newest_first(app, agent, frozen_clock):
    old, _ = create_token(agent, "old")
    frozen_clock.move(hours=1)
    middle, _ = create_token(agent, "middle")
    frozen_clock.move(hours=1)
    new, _ = create_token(agent, "new")
    db.session.commit()
    revoke_token(agent, new)
    db.session.commit()
    assert [t.name for t in tokens_of(agent)] == ["middle", "old", "new"]


def test_revoking_a_token_makes_it_stop_working(app, agent, caplog):
    row, secret = create_token(agent, "Script")
    db.session.commit()
    assert token_for(secret) is not None
    client = signed_in(app, agent)
    with caplog.at_level(logging.INFO):
        response = client.post(f"/account/tokens/{row.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    assert token_for(secret) is None
    assert db.session.get(ApiToken, row.id).revoked_at is not None
    logged = [r.getMessage() for r in caplog.records if r.name == "ticketing.security"]
    assert any("token_revoked" in line and "by Ann Agent (user 1)" in line for line in logged)
    page = client.get("/account").get_data(as_text=True)
    assert "is revoked: it no longer works" in page and "Revoked" in page


def test_revoking_twice_says_so_and_changes_nothing(app, agent):
    row, _ = create_token(agent, "Script")
    revoke_token(agent, row)
    db.session.commit()
    first = row.revoked_at
    client = signed_in(app, agent)
    client.post(f"/account/tokens/{row.id}/revoke")
    assert "already revoked" in client.get("/account").get_data(as_text=True)
    assert db.session.get(ApiToken, row.id).revoked_at == first


def test_nobody_revokes_another_users_token_by_its_id(app, agent, make_user):
    row, secret = create_token(agent, "Mine")
    db.session.commit()
    for role in ("agent", "supervisor"):
        other = signed_in(app, make_user(role))
        assert other.post(f"/account/tokens/{row.id}/revoke").status_code == 404
        assert other.post("/account/tokens/999999/revoke").status_code == 404  # the same as a missing id
        assert "Mine" not in other.get("/account").get_data(as_text=True)
    assert token_for(secret) is not None
    with pytest.raises(TokenError):
        revoke_token(make_user("agent"), row)


def test_an_admin_sees_and_revokes_a_users_tokens_on_the_user_page(app, agent, admin):
    row, secret = create_token(agent, "Agent's script")
    db.session.commit()
    client = signed_in(app, admin)
    page = client.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    assert "Agent&#39;s script" in page and f"{row.hint}…" in page and secret not in page
    assert "Tokens stop working while the account is disabled" in page
    response = client.post(f"/account/tokens/{row.id}/revoke", data={"next": f"/admin/users/{agent.id}"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/users/{agent.id}")
    assert token_for(secret) is None


def test_a_disabled_accounts_tokens_stop_working_and_the_page_says_so(app, agent, admin):
    row, secret = create_token(agent, "Script")
    db.session.commit()
    client = signed_in(app, admin)
    client.post(f"/admin/users/{agent.id}", data={"role": "agent", "new_password": ""})  # "active" unticked
    assert token_for(secret) is None
    assert "none of its tokens works now" in client.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    client.post(f"/admin/users/{agent.id}", data={"role": "agent", "active": "y", "new_password": ""})
    assert token_for(secret) is not None


def test_the_revoke_button_never_leads_off_site(app, agent):
    row, _ = create_token(agent, "Script")
    db.session.commit()
    response = signed_in(app, agent).post(f"/account/tokens/{row.id}/revoke", data={"next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/account")


def test_token_names_are_escaped_on_every_page(app, agent, admin):
    name = '<script>alert("x")</script>'
    create_token(agent, name)
    db.session.commit()
    created = signed_in(app, agent).post("/account/tokens", data={"token-name": name}).get_data(as_text=True)
    for page in (
        created,
        signed_in(app, agent).get("/account").get_data(as_text=True),
        signed_in(app, admin).get(f"/admin/users/{agent.id}").get_data(as_text=True),
    ):
        assert name not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_revoking_needs_the_csrf_token(app, agent):
    row, secret = create_token(agent, "Script")
    db.session.commit()
    client = signed_in(app, agent)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 400
    assert client.post("/account/tokens", data={"token-name": "x"}).status_code == 400
    assert token_for(secret) is not None and token_count() == 1


@pytest.mark.parametrize(
    "locale, heading, once",
    [
        ("en", "API tokens", "Copy it now: it will not be shown again."),
        ("zh_CN", "API 令牌", "请立即复制：它不会再次显示。"),
    ],
)
def test_the_section_speaks_both_languages(app, make_user, locale, heading, once):
    user = make_user("agent", locale=locale)
    client = signed_in(app, user)
    assert heading in client.get("/account").get_data(as_text=True)
    assert once in client.post("/account/tokens", data={"token-name": "x"}).get_data(as_text=True)


def test_the_cli_prints_a_working_token_as_its_last_line(app, runner, agent):
    result = runner.invoke(args=["create-token", "--email", "AGENT@example.com", "--name", "BI", "--read-only"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "agent@example.com" in lines[-2] and "read-only" in lines[-2]
    row = token_for(lines[-1])
    assert row is not None and row.user_id == agent.id and row.name == "BI" and row.read_only


def test_the_cli_names_a_token_by_default(app, runner, agent):
    result = runner.invoke(args=["create-token", "--email", agent.email])
    assert result.exit_code == 0
    row = token_for(result.output.strip().splitlines()[-1])
    assert row.name == "Command line" and not row.read_only


@pytest.mark.parametrize("case", ["unknown", "disabled", "bad name"])
def test_the_cli_refuses_clearly_and_creates_nothing(app, runner, agent, case):
    args = ["create-token", "--email", agent.email]
    if case == "unknown":
        args[2] = "nobody@example.com"
    elif case == "disabled":
        agent.active = False
        db.session.commit()
    else:
        args += ["--name", "   "]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert {
        "unknown": "No user with the email nobody@example.com",
        "disabled": "is disabled",
        "bad name": "Give the token a name",
    }[case] in result.output
    assert "Nothing created" in result.output or "nothing created" in result.output
    assert token_count() == 0
