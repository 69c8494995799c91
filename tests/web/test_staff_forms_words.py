"""Staff accounts on internal domains, and the form library's messages in the reader's language."""

import pytest
from sqlalchemy import select

from tests.conftest import login
from ticketing.auth.models import User
from ticketing.extensions import db


def _new_user(client, email, locale="en"):
    data = {"name": "New Agent", "email": email, "role": "agent", "password": "long enough pw", "locale": locale}
    return client.post("/admin/users/", data=data)


@pytest.mark.parametrize("email", ["ann@desk.local", "ops@intranet", "li@corp.internal", "new@example.com"])
def test_a_staff_account_may_be_on_an_internal_domain(client, admin, email):
    login(client, admin.email)
    assert _new_user(client, email).status_code == 302
    assert db.session.scalar(select(User.email).where(User.email == email)) == email


@pytest.mark.parametrize(
    "email", ["ann@@desk.local", "ann desk@desk.local", "ann@desk.local\r\nBcc: x@example.com", "@desk.local", "ann@"]
)
def test_a_malformed_staff_address_is_still_refused(client, admin, email):
    login(client, admin.email)
    response = _new_user(client, email)
    assert response.status_code == 422
    assert b"Invalid email address." in response.data or b"must fit on one line" in response.data  # header safety
    assert db.session.scalar(select(User).where(User.name == "New Agent")) is None


def test_the_form_librarys_messages_are_in_chinese_beside_chinese_labels(client, make_user):
    chinese_admin = make_user("admin", "zh.admin@example.com", "Zhou", locale="zh_CN")
    login(client, chinese_admin.email)
    page = client.post("/admin/users/", data={"name": "", "email": "not an address", "role": "agent"})
    text = page.get_data(as_text=True)
    assert "此项必填。" in text and "电子邮件地址无效。" in text
    assert "This field is required" not in text and "Invalid email address" not in text
