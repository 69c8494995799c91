"""Portal clarity (#14): files inside their messages, a private link to copy, links that expire after
closure and that staff can revoke, the survey confirmed, and a refused complaint that keeps its text."""

import html
import re
from io import BytesIO

from sqlalchemy import event, func, select

from tests.conftest import login
from tests.factories import open_case, to_step
from tests.portal.test_portal import COMPLAINT, _case_at, private_link, submit
from ticketing.cases import services
from ticketing.cases.attachments import Attachment
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.cases.portal_access import issue_token, ticket_for_token
from ticketing.extensions import db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 2_500


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _without_csrf(response) -> bytes:
    return re.sub(rb'name="csrf_token" value="[^"]*"', b"", response.data)


def _upload(*files):
    return [(BytesIO(data), name) for name, data in files]


def _bubbles(page: str) -> list[str]:
    return re.findall(r'<article class="bubble[^"]*">(.*?)</article>', page, re.S)


def _file_id(name: str) -> int:
    return db.session.scalars(select(Attachment.id).where(Attachment.original_name == name)).one()


def _close(ticket, agent, supervisor):
    services.record_review(ticket, agent, version=ticket.version, summary="Fixed", lesson="Stock spares")
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()


# --- files inside the message they came with ---------------------------------------


def test_each_file_is_shown_inside_the_message_it_came_with_images_as_thumbnails(client):
    client.post(
        "/complain",
        data={**COMPLAINT, "attachments": _upload(("receipt.pdf", PDF))},
        content_type="multipart/form-data",
    )
    client.post("/track", data={"body": "Here is the leak."})
    client.post(
        "/track",
        data={"body": "A photo of the base.", "attachments": _upload(("base.png", PNG))},
        content_type="multipart/form-data",
    )
    client.post(
        "/track",
        data={"body": "And the warranty.", "attachments": _upload(("warranty.pdf", PDF))},
        content_type="multipart/form-data",
    )
    page = client.get("/track").get_data(as_text=True)
    plain, photo, warranty = _bubbles(page)
    assert "Here is the leak." in plain and "<img" not in plain and "attachments/" not in plain
    image = f"/track/attachments/{_file_id('base.png')}"
    assert "A photo of the base." in photo
    assert f'<a class="thumb" href="{image}"><img src="{image}" alt="base.png" loading="lazy"></a>' in photo
    assert "warranty.pdf" not in photo and "receipt.pdf" not in photo
    document = f"/track/attachments/{_file_id('warranty.pdf')}"
    assert f'<a href="{document}">warranty.pdf</a> <span class="muted">3 kB</span>' in warranty
    assert "<img" not in warranty
    # The complaint's own file has no message: it is listed with what the customer told us.
    complaint = page.split('class="panel narrow own-complaint"', 1)[1].split("</section>", 1)[0]
    assert "Files you sent" in complaint and "receipt.pdf" in complaint


def test_thumbnails_are_kept_small_by_the_portals_stylesheet(client):
    submit(client)
    page = client.get("/track").get_data(as_text=True)
    assert '<link rel="stylesheet" href="/static/css/portal.css">' in page
    css = client.get("/static/css/portal.css").get_data(as_text=True)
    rule = re.search(r"\.attachments \.thumb img \{([^}]*)\}", css).group(1)
    assert "width: 128px" in rule and "height: 96px" in rule and "object-fit: cover" in rule


def test_a_file_is_served_only_to_the_holder_of_its_own_cases_link(app, client):
    client.post(
        "/complain", data={**COMPLAINT, "attachments": _upload(("leak.png", PNG))}, content_type="multipart/form-data"
    )
    file_id = _file_id("leak.png")
    assert client.get(f"/track/attachments/{file_id}").data == PNG
    other = app.test_client()
    submit(other, email="someone.else@example.com")
    assert other.get(f"/track/attachments/{file_id}").status_code == 404  # another case's customer
    assert app.test_client().get(f"/track/attachments/{file_id}").status_code == 404  # no link at all


# --- the private link, to copy -------------------------------------------------------


def test_the_tracking_page_offers_its_private_link_with_a_copy_button(app, client):
    submit(client)
    link = private_link(client)
    browser = app.test_client()
    browser.get(_path(link))
    page = browser.get("/track")
    text = page.get_data(as_text=True)
    assert f'id="private-link" value="{link}" readonly' in text
    button = re.search(r"<button [^>]*data-copy-link=\"private-link\"[^>]*>([^<]*)</button>", text)
    assert button and button.group(1) == "Copy link" and 'data-copied="Copied"' in button.group(0)
    assert '<p class="copy-status" id="private-link-status" role="status" aria-live="polite"></p>' in text
    # The script is a file of our own (the CSP allows no inline script), loaded by the portal's pages.
    assert '<script src="/static/js/portal.js" defer></script>' in text and "<script>" not in text
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    script = browser.get("/static/js/portal.js").get_data(as_text=True)
    assert "navigator.clipboard.writeText" in script and 'execCommand("copy")' in script


def test_the_copy_button_is_in_the_customers_language(app, client):
    client.post("/language", data={"locale": "zh_CN", "next": "/complain"})
    submit(client)
    browser = app.test_client()
    browser.get(_path(private_link(client)))
    text = browser.get("/track").get_data(as_text=True)
    assert "您的专属链接" in text and ">复制链接</button>" in text and 'data-copied="已复制"' in text


# --- links that expire after closure and that staff revoke ----------------------------


def test_a_link_stops_working_some_days_after_closure_and_answers_like_a_wrong_token(
    app, client, agent, supervisor, frozen_clock
):
    days = app.config["PORTAL_LINK_DAYS_AFTER_CLOSURE"]
    assert days == 90
    ticket = _case_at(agent, supervisor, "review", client)
    link = _path(private_link(client))
    _close(ticket, agent, supervisor)
    frozen_clock.move(days=days - 1)
    assert app.test_client().get(link).status_code == 302  # still works the day before
    assert "It works until" in client.get("/track").get_data(as_text=True)
    frozen_clock.move(days=2)
    expired = app.test_client().get(link)
    wrong = app.test_client().get("/track/" + "x" * 32)
    assert expired.status_code == wrong.status_code == 404
    assert _without_csrf(expired) == _without_csrf(wrong)
    assert b'href="/track/lost"' in expired.data  # the way to a fresh link
    assert client.get("/track").status_code == 404  # the page it had opened is closed too


def test_a_link_issued_after_closure_lives_its_own_days(app, client, agent, supervisor, frozen_clock):
    ticket = _case_at(agent, supervisor, "review", client)
    _close(ticket, agent, supervisor)
    frozen_clock.move(days=200)
    fresh = issue_token(ticket)  # as /track/lost sends one
    db.session.commit()
    assert app.test_client().get(f"/track/{fresh}").status_code == 302
    frozen_clock.move(days=app.config["PORTAL_LINK_DAYS_AFTER_CLOSURE"] + 1)
    assert app.test_client().get(f"/track/{fresh}").status_code == 404


def test_a_reopened_cases_links_work_again(app, client, agent, supervisor, frozen_clock):
    ticket = _case_at(agent, supervisor, "review", client)
    link = _path(private_link(client))
    _close(ticket, agent, supervisor)
    frozen_clock.move(days=app.config["PORTAL_LINK_DAYS_AFTER_CLOSURE"] + 5)
    assert app.test_client().get(link).status_code == 404
    services.reopen_case(ticket, supervisor, version=ticket.version, reason="The kettle leaks again")
    db.session.commit()
    again = app.test_client()
    assert again.get(link).status_code == 302 and again.get("/track").status_code == 200


def test_the_time_a_link_lives_after_closure_is_a_setting(app, client, agent, supervisor, frozen_clock):
    app.config["PORTAL_LINK_DAYS_AFTER_CLOSURE"] = 7
    ticket = _case_at(agent, supervisor, "review", client)
    link = _path(private_link(client))
    _close(ticket, agent, supervisor)
    frozen_clock.move(days=6)
    assert app.test_client().get(link).status_code == 302
    frozen_clock.move(days=2)
    assert app.test_client().get(link).status_code == 404


def _revoke(staff, ticket):
    return staff.post(f"/tickets/{ticket.reference}/private-links/revoke")


def test_staff_revoke_every_link_of_a_case_and_the_customer_lands_on_the_lost_link_page(app, client, agent):
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    first = _path(private_link(client))
    second = f"/track/{issue_token(ticket)}"  # as an e-mail carries one
    db.session.commit()
    assert app.test_client().get(first).status_code == 302  # opened once: "last opened" is known
    services.assign_case(ticket, agent, version=ticket.version, assignee=agent)
    db.session.commit()
    staff = app.test_client()
    login(staff, agent.email)
    case = html.unescape(staff.get(f"/tickets/{ticket.reference}").get_data(as_text=True))
    assert "The customer's private links" in case and "Links that open the case now: 2." in case
    assert "Last opened:" in case and "Yes, revoke all private links" in case

    response = _revoke(staff, ticket)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tickets/{ticket.reference}")
    case = html.unescape(staff.get(response.headers["Location"]).get_data(as_text=True))
    assert "Private links revoked: 2. None of them opens the case any more." in case
    assert "Links that open the case now: 0." in case and "Yes, revoke all private links" not in case
    assert "The customer's private links revoked" in case  # the record log, on the case page

    wrong = app.test_client().get("/track/" + "x" * 32)
    for link in (first, second):
        revoked = app.test_client().get(link)
        assert revoked.status_code == 404 and _without_csrf(revoked) == _without_csrf(wrong)
    assert client.get("/track").status_code == 404  # the page the customer had open is closed


def test_revoking_is_one_event_in_the_record_log(app, client, agent):
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    staff = app.test_client()
    login(staff, agent.email)
    version = ticket.version
    _revoke(staff, ticket)
    logged = db.session.scalars(select(Event).where(Event.ticket_id == ticket.id, Event.action == "revoke_links")).one()
    assert (logged.actor_id, logged.changes) == (agent.id, {"links": [None, 1]})
    assert db.session.get(Ticket, ticket.id).version == version  # a side action: no colleague's form goes stale


def test_an_agent_not_on_the_case_cannot_revoke_its_links(app, client, agent, make_user):
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    services.assign_case(ticket, agent, version=ticket.version, assignee=agent)
    db.session.commit()
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    staff = app.test_client()
    login(staff, colleague.email)
    case = staff.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "Links that open the case now: 1." in case and "Yes, revoke all private links" not in case
    refused = _revoke(staff, ticket)
    assert refused.status_code == 409 and "assigned to someone else" in refused.get_data(as_text=True)
    assert client.get("/track").status_code == 200  # the customer's link still works
    assert db.session.scalar(select(func.count(Event.id)).where(Event.action == "revoke_links")) == 0


def test_a_supervisor_revokes_the_links_of_any_case_even_closed(app, client, agent, supervisor):
    ticket = _case_at(agent, supervisor, "review", client)
    _close(ticket, agent, supervisor)
    staff = app.test_client()
    login(staff, supervisor.email)
    assert _revoke(staff, ticket).status_code == 302
    assert client.get("/track").status_code == 404


def test_with_no_link_working_there_is_nothing_to_revoke(app, client, agent):
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    staff = app.test_client()
    login(staff, agent.email)
    _revoke(staff, ticket)
    again = _revoke(staff, ticket)
    assert again.status_code == 409 and "there is nothing to revoke" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Event.id)).where(Event.action == "revoke_links")) == 1


def test_after_a_revoke_the_customer_can_ask_for_a_fresh_link_that_works(app, client, agent, inbox):
    from ticketing.scheduling.dispatcher import dispatch_due

    app.config["PUBLIC_URL"] = "http://desk.example"
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    dispatch_due()  # the confirmation e-mail, with its link
    staff = app.test_client()
    login(staff, agent.email)
    _revoke(staff, ticket)
    customer = app.test_client()
    sent = customer.post("/track/lost", data={"reference": ticket.reference, "email": COMPLAINT["email"]})
    assert sent.status_code == 200
    dispatch_due()
    links = [
        found.group(1)
        for mail in inbox.to(COMPLAINT["email"])
        if (found := re.search(r"http://desk\.example(/track/\S+)", mail.get_content()))
    ]
    first, fresh = links[0], links[-1]
    assert customer.get(first).status_code == 404
    assert customer.get(fresh).status_code == 302 and customer.get("/track").status_code == 200


def test_wrong_revoked_and_expired_tokens_cost_the_same_single_query(app, agent, supervisor, frozen_clock):
    revoked_case = open_case(agent, email="revoked@example.com")
    revoked = issue_token(revoked_case)
    db.session.commit()
    services.revoke_portal_links(revoked_case, agent)
    closed_case = to_step(open_case(agent, email="closed@example.com"), agent, "review")
    expired = issue_token(closed_case)
    _close(closed_case, agent, supervisor)
    working = issue_token(open_case(agent, email="open@example.com"))
    db.session.commit()
    frozen_clock.move(days=app.config["PORTAL_LINK_DAYS_AFTER_CLOSURE"] + 1)
    db.session.expire_all()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        answers = {}
        for name, token in (("wrong", "x" * 32), ("revoked", revoked), ("expired", expired), ("working", working)):
            statements.clear()
            answers[name] = (ticket_for_token(token) is not None, len(statements))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    db.session.rollback()
    assert answers["wrong"] == answers["revoked"] == answers["expired"] == (False, 1)
    assert answers["working"][0] is True


# --- the survey, confirmed -------------------------------------------------------------

SURVEY = {
    "satisfaction": "4",
    "recommend": "9",
    "buy_again": "yes",
    "fair_outcome": "4",
    "fair_process": "5",
    "fair_treatment": "5",
    "comment": "Quick and kind",
}


def test_the_survey_is_confirmed_once_sent(client, agent, supervisor):
    _case_at(agent, supervisor, "review", client)
    response = client.post("/track/survey", data=SURVEY)
    assert response.status_code == 302 and response.headers["Location"].endswith("/track")
    page = client.get("/track").get_data(as_text=True)
    assert re.search(
        r'<div class="flash flash-success narrow" role="status">Thank you: we have your answers\. '
        r"They help us do better, for you and for others\.</div>",
        page,
    )
    assert "How did we do?" not in page
    assert "Thank you: we have your answers" not in client.get("/track").get_data(as_text=True)  # said once


def test_the_survey_confirmation_is_in_chinese_for_a_chinese_customer(client, agent, supervisor):
    client.post("/language", data={"locale": "zh_CN", "next": "/track"})
    _case_at(agent, supervisor, "review", client)
    client.post("/track/survey", data=SURVEY)
    page = client.get("/track").get_data(as_text=True)
    assert "谢谢：我们已收到您的回答。它们帮助我们为您、也为其他顾客做得更好。" in page


# --- a refused complaint keeps what was typed -----------------------------------------


def test_a_complaint_refused_for_its_content_keeps_every_field(client):
    typed = {**COMPLAINT, "email": "", "phone": "", "wish": "A new rice cooker <please>"}
    page = client.post("/complain", data=typed)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    for value in (typed["name"], typed["product"], typed["what_happened"]):
        assert html.escape(value, quote=False) in text
    assert "A new rice cooker &lt;please&gt;" in text  # kept, and escaped


def test_a_complaint_over_the_rate_limit_comes_back_with_its_text_and_when_to_send_it(app, client):
    app.config["PORTAL_RATE_LIMIT"] = "1 per hour"
    assert submit(client).status_code == 302
    typed = {**COMPLAINT, "name": "Li Lei", "what_happened": "The kettle leaks after two days of use."}
    page = client.post(
        "/complain", data={**typed, "attachments": _upload(("leak.png", PNG))}, content_type="multipart/form-data"
    )
    assert page.status_code == 429
    text = html.unescape(page.get_data(as_text=True))
    assert "Please wait a little before sending this complaint." in text and "You can send it again from" in text
    assert "Your files could not be kept: attach them again before sending." in text
    assert 'value="Li Lei"' in text and "The kettle leaks after two days of use." in text
    assert typed["product"] in text and typed["wish"] in text
    assert '<form method="post"' in text and "Send my complaint" in text  # the form, ready to send again
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_the_rate_limit_message_is_in_chinese_too(app, client):
    app.config["PORTAL_RATE_LIMIT"] = "1 per hour"
    client.post("/language", data={"locale": "zh_CN", "next": "/complain"})
    submit(client)
    page = submit(client, what_happened="电饭煲又坏了，第二次投诉。")
    assert page.status_code == 429
    text = page.get_data(as_text=True)
    assert "请稍等片刻再提交这份投诉。" in text and "电饭煲又坏了，第二次投诉。" in text


def test_other_portal_pages_over_the_limit_keep_the_portals_own_page(app, client):
    app.config["PORTAL_RATE_LIMIT"] = "1 per hour"
    data = {"reference": "C-2026-000001", "email": "x@example.com"}
    client.post("/track/lost", data=data)
    page = client.post("/track/lost", data=data)
    assert page.status_code == 429 and "Please wait a little" in page.get_data(as_text=True)
    assert "Service Recovery Desk" not in page.get_data(as_text=True)


def test_the_reference_is_given_in_a_whole_sentence_of_the_customers_language(client):
    client.post("/language", data={"locale": "zh_CN", "next": "/complain"})
    submit(client)
    reference = db.session.scalars(select(Ticket.reference)).one()
    page = client.get("/complain/received").get_data(as_text=True)
    assert f'您的案件编号是 <strong class="reference">{reference}</strong>。' in page
    client.post("/language", data={"locale": "en", "next": "/complain"})
    page = client.get("/complain/received").get_data(as_text=True)
    assert f'Your reference is <strong class="reference">{reference}</strong>.' in page
