"""Reply templates' placeholders: what is refused when a template is saved, and how one is filled."""

import pytest
from flask_babel import force_locale

from tests.factories import open_case, propose, to_step
from ticketing.cases import reply_text
from ticketing.i18n import day


@pytest.mark.parametrize(
    "body", ["Dear {customer_name}, case {reference}.", "No placeholder at all", "A brace itself: {{ and }}"]
)
def test_known_placeholders_and_escaped_braces_are_accepted(body):
    reply_text.check(body)


@pytest.mark.parametrize("body", ["Dear {name}", "{reference.__class__}", "{customer_name!r}", "{reference:>20}"])
def test_an_unknown_placeholder_is_refused_by_name_with_the_known_ones_listed(app, body):
    with app.test_request_context(), pytest.raises(reply_text.PlaceholderError) as refused:
        reply_text.check(body)
    with app.test_request_context():
        reason = str(refused.value.reason)
    assert "Unknown placeholder {" in reason and "{customer_name}" in reason and "{promised_date}" in reason
    assert body[body.index("{") : body.index("}") + 1] in reason


@pytest.mark.parametrize("body", ["Dear {customer_name", "Dear customer_name}", "{"])
def test_a_malformed_brace_is_refused(app, body):
    with app.test_request_context(), pytest.raises(reply_text.PlaceholderError) as refused:
        reply_text.check(body)
    with app.test_request_context():
        assert "brace" in str(refused.value.reason)


def _case_with_promise(agent, name="Li Lei"):
    ticket = to_step(open_case(agent, name=name), agent, "resolve")
    propose(ticket, agent)
    return ticket


def test_filling_puts_in_the_cases_details_and_never_reads_attributes(app, agent):
    ticket = _case_with_promise(agent)
    with app.test_request_context():
        filled = reply_text.values(ticket, agent, "en")
        text = reply_text.fill("Dear {customer_name}, {reference} by {promised_date}. {agent_name} {{x}}", filled)
        promised = day(ticket.promised_date)
    assert text == f"Dear Li Lei, {ticket.reference} by {promised}. Ann Agent {{x}}"


def test_a_chinese_template_writes_the_date_the_chinese_way(app, agent):
    ticket = _case_with_promise(agent, name="张伟")
    with app.test_request_context():
        filled = reply_text.values(ticket, agent, "zh_CN")
        text = reply_text.fill("{customer_name}您好，将于{promised_date}之前完成。", filled)
        with force_locale("zh_CN"):
            chinese = day(ticket.promised_date)
        with force_locale("en"):
            english = day(ticket.promised_date)
    assert chinese != english and "年" in chinese
    assert text == f"张伟您好，将于{chinese}之前完成。"


def test_a_value_the_case_does_not_have_yet_is_left_for_the_agent_to_complete(app, agent):
    ticket = open_case(agent)
    with app.test_request_context():
        text = reply_text.fill("Done by {promised_date}; {product}", reply_text.values(ticket, agent, "en"))
    assert text == f"Done by {reply_text.MISSING}; {reply_text.MISSING}"


def test_the_portal_placeholder_is_the_public_link_page_never_a_private_link(app, agent):
    ticket = open_case(agent)
    with app.test_request_context():
        url = reply_text.fill("{portal_url}", reply_text.values(ticket, agent, "en"))
    assert url == app.config["PUBLIC_URL"].rstrip("/") + "/track/lost"
