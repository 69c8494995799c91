"""Reply templates on the pages: a template with an unknown placeholder is refused when saved, the edit
page lists the placeholders, and the case page offers templates filled in for the case, for the
step fields and the message to the customer."""

from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import open_case
from ticketing.cases.models import ReplyTemplate
from ticketing.extensions import db


def _template(kind, body, locale="en", title="Greeting"):
    db.session.add(ReplyTemplate(kind=kind, locale=locale, title=title, body=body, active=True))
    db.session.commit()


def test_a_template_with_an_unknown_placeholder_is_refused_with_the_known_ones(client, supervisor):
    login(client, supervisor.email)
    response = client.post(
        "/replies/new", data={"kind": "message", "locale": "en", "title": "Hi", "body": "Dear {name}", "active": "y"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Unknown placeholder {name}" in page and "{customer_name}" in page and "{reference}" in page
    assert db.session.scalar(select(func.count(ReplyTemplate.id))) == 0


def test_a_template_with_known_placeholders_is_saved_and_the_edit_page_lists_them(client, supervisor):
    login(client, supervisor.email)
    page = client.get("/replies/new").get_data(as_text=True)
    assert "{agent_name}" in page and "{promised_date}" in page and "Message to the customer" in page
    body = "Dear {customer_name}, about {reference}"
    response = client.post(
        "/replies/new", data={"kind": "message", "locale": "en", "title": "Hi", "body": body, "active": "y"}
    )
    assert response.status_code == 302
    assert db.session.scalars(select(ReplyTemplate)).one().body == body


def test_the_case_page_offers_templates_filled_in_for_the_case_and_for_the_message(client, agent):
    ticket = open_case(agent, name="Li <b>Lei</b>")
    _template("message", "Dear {customer_name}, your case {reference}. {agent_name}")
    _template("restatement", "{customer_name}, you mean …?", title="Confirm")
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    picker = page[page.index('id="reply-message-body"') :]
    picker = picker[: picker.index("</select>")]
    assert f"Dear Li &lt;b&gt;Lei&lt;/b&gt;, your case {ticket.reference}. Ann Agent" in picker  # escaped
    assert "<b>Lei</b>" not in page[page.index('id="reply-message-body"') :]
    assert 'data-insert-into="message-body"' in page


def test_the_cases_language_is_offered_first_and_the_users_own_too(client, make_user):
    chinese_agent = make_user("agent", name="王芳", locale="zh_CN")
    ticket = open_case(chinese_agent, name="Li Lei")
    _template("message", "Dear {customer_name}", title="English one")
    _template("message", "{customer_name}您好", locale="zh_CN", title="中文")
    login(client, chinese_agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert page.index("English one") < page.index(">中文")
