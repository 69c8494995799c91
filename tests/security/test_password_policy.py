"""The password policy (ASVS 6.2.4): at least 10 characters, not one of the 20,000 most common, not
one character or a short group repeated, not a run like 1234567890 — on the account page, the users
page and the command line alike, each with a reason beside the field."""

import pytest

from tests.conftest import PASSWORD, login
from ticketing.auth import passwords
from ticketing.auth.models import User
from ticketing.auth.services import AccountError, create_user
from ticketing.extensions import db

WEAK = {
    "aaaaaaaaaa": "one character or a short group repeated",
    "abcabcabcabc": "one character or a short group repeated",
    "1212121212": "one character or a short group repeated",
    "1234567890": "a run of letters or digits",
    "abcdefghijk": "a run of letters or digits",
    "password123": "one of the most common passwords",
    "Qwertyuiop": "one of the most common passwords",
    "iloveyou12": "one of the most common passwords",
    "short": "at least 10 characters",
}
STRONG = ["correct horse battery", "Kettle-leaks-on-Tuesday", "我的水壶漏水了三天了啊"]


def test_the_common_list_ships_with_the_package():
    common = passwords.common_passwords()
    assert len(common) >= 10_000 and "password" in common and "123456789" in common


@pytest.mark.parametrize(("password", "reason"), WEAK.items())
def test_weak_passwords_are_refused_with_the_reason(app, password, reason):
    with pytest.raises(AccountError) as refused:
        create_user(email="new@example.com", password=password, role="agent")
    assert reason in str(refused.value.reason) and refused.value.field == "password"


@pytest.mark.parametrize("password", STRONG)
def test_a_long_uncommon_password_is_taken(app, password):
    create_user(email="new@example.com", password=password, role="agent")
    db.session.commit()
    assert db.session.scalars(db.select(User).where(User.email == "new@example.com")).one().check_password(password)


def _change_password(client, user, new: str):
    login(client, user.email)
    fields = {"current_password": PASSWORD, "new_password": new, "confirm": new}
    return client.post("/account", data={f"password-{name}": value for name, value in fields.items()})


def test_the_account_page_refuses_a_repeated_password_and_keeps_the_old_one(app, client, agent):
    answer = _change_password(client, agent, "aaaaaaaaaa")
    assert answer.status_code == 422 and "short group repeated" in answer.get_data(as_text=True)
    assert login(app.test_client(), agent.email).status_code == 302


def test_the_users_page_refuses_a_common_initial_password(app, client, admin):
    login(client, admin.email)
    data = {"name": "New", "email": "new@example.com", "role": "agent", "password": "password1234", "locale": "en"}
    answer = client.post("/admin/users/", data=data)
    assert answer.status_code == 422 and "most common passwords" in answer.get_data(as_text=True)
    assert db.session.scalars(db.select(User).where(User.email == "new@example.com")).first() is None


def test_the_command_line_refuses_it_too(app, runner):
    result = runner.invoke(
        args=["create-user", "--email", "a@example.com", "--password", "1234567890", "--role", "admin"]
    )
    assert result.exit_code != 0 and "run of letters or digits" in result.output
    assert db.session.scalars(db.select(User)).first() is None


def test_the_reason_is_in_chinese_for_a_chinese_user(app, client, make_user):
    answer = _change_password(client, make_user("agent", "zh@example.com", locale="zh_CN"), "qwertyuiop")
    assert answer.status_code == 422 and "最常见" in answer.get_data(as_text=True)
