"""The security baseline: headers, cookies, CSRF, escaping."""

from sqlalchemy import func, select

from tests.conftest import PASSWORD, login
from tests.factories import open_case
from ticketing.cases.models import Ticket
from ticketing.extensions import db


def test_pages_carry_a_strict_content_security_policy_and_nosniff(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_samesite(client, agent):
    response = login(client, agent.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_forms_without_a_csrf_token_are_refused_and_save_nothing(app, agent):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/login", data={"email": agent.email, "password": PASSWORD}).status_code == 400
    assert (
        client.post("/login", data={"email": agent.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    )
    response = client.post(
        "/intake", data={"customer_name": "X", "customer_phone": "12345678", "subject": "s", "customer_words": "w"}
    )
    assert response.status_code == 400
    assert b"The form expired" in response.data
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_customer_text_is_escaped_on_the_case_page(client, agent):
    ticket = open_case(agent, name="<script>alert(1)</script>")
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_unknown_case_reference_is_a_plain_404(client, agent):
    login(client, agent.email)
    assert client.get("/tickets/C-2026-999999").status_code == 404


def test_an_action_never_redirects_to_another_site(client, agent):
    ticket = open_case(agent)
    login(client, agent.email)
    response = client.post(
        f"/tickets/{ticket.reference}/actions/note", data={"note-body": "checked", "next": "https://evil.example/x"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tickets/{ticket.reference}")
