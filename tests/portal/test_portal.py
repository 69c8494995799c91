"""The customer portal: complain without an account, follow the case by a private link."""

import logging
import re

from sqlalchemy import func, select

from tests.conftest import login
from ticketing.cases import services
from ticketing.cases.models import Customer, Reminder, Ticket
from ticketing.extensions import db

COMPLAINT = {
    "name": "王小明",
    "email": "xm.wang@example.cn",
    "phone": "",
    "product": "订单 88231 电饭煲",
    "what_happened": "电饭煲用了两天就不加热了，客服电话一直占线。",
    "wish": "换一台新的",
    "website": "",
}


def submit(client, **changes):
    return client.post("/complain", data={**COMPLAINT, **changes})


def private_link(client):
    page = client.get("/complain/received").get_data(as_text=True)
    return re.search(r'class="private-link"><a href="([^"]+)"', page).group(1)


def test_a_complaint_lands_in_the_team_queue_as_a_web_case_with_step_one_started(client):
    response = submit(client)
    assert response.status_code == 302
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.channel, ticket.step, ticket.assignee_id) == ("web", "listen", None)
    assert ticket.customer_expectation == "换一台新的" and ticket.customer.locale in ("en", "zh_CN")
    assert "不加热" in ticket.description


def test_the_private_link_opens_the_case_and_leaves_the_token_out_of_the_address(app, client):
    submit(client)
    link = private_link(client)
    token_path = link.split("://", 1)[1].split("/", 1)[1]
    fresh = app.test_client()
    response = fresh.get("/" + token_path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/track")
    page = fresh.get("/track")
    assert page.status_code == 200 and "We have received your complaint" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_a_wrong_token_reveals_nothing_and_answers_like_a_missing_case(app, client):
    submit(client)
    link = private_link(client)
    wrong = app.test_client().get("/track/" + "x" * 32)
    tampered = app.test_client().get("/" + link.split("/", 3)[3][:-2] + "zz")
    assert wrong.status_code == tampered.status_code == 404
    without_csrf = lambda response: re.sub(rb'name="csrf_token" value="[^"]*"', b"", response.data)  # noqa: E731
    assert without_csrf(wrong) == without_csrf(tampered)
    assert app.test_client().get("/track").status_code == 404


def test_the_token_is_stored_only_as_a_hash(client):
    submit(client)
    token = private_link(client).rsplit("/", 1)[1]
    from ticketing.cases.portal_access import PortalAccess

    stored = db.session.scalars(select(PortalAccess)).one().token_hash
    assert token not in stored and len(token) >= 22  # at least 128 random bits, url-safe


def test_invalid_input_is_explained_and_nothing_is_saved(client):
    response = submit(client, email="", phone="", what_happened="short")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Give an email or a phone number" in text and "between 10 and 4000 characters" in text
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    assert db.session.scalar(select(func.count(Customer.id))) == 0


def test_the_honeypot_keeps_nothing(client):
    assert submit(client, website="http://spam.example").status_code == 302
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_complaints_are_rate_limited_per_address(app, client):
    app.config["PORTAL_RATE_LIMIT"] = "2 per minute"
    codes = [submit(client, email=f"c{n}@example.com").status_code for n in range(3)]
    assert codes == [302, 302, 429]
    page = submit(client, email="c9@example.com")
    assert page.status_code == 429 and "Please wait a little" in page.get_data(as_text=True)
    assert "Service Recovery Desk" not in page.get_data(as_text=True)  # the portal's own page


def test_refused_forms_do_not_count_so_nobody_is_locked_out_correcting_one(app, client):
    app.config["PORTAL_RATE_LIMIT"] = "2 per minute"
    refused = [submit(client, what_happened="short").status_code for _ in range(5)]
    assert refused == [422] * 5
    page = submit(client, name="Li Lei", what_happened="short").get_data(as_text=True)
    assert "Li Lei" in page  # what was typed comes back with the reason
    assert submit(client).status_code == 302


def test_portal_errors_are_the_portals_pages(client):
    for url in ("/track/nothing/here", "/complain/nope"):
        page = client.get(url)
        text = page.get_data(as_text=True)
        assert page.status_code == 404 and "Customer care" in text
        assert "Back to the queue" not in text and "Service Recovery Desk" not in text
        assert 'href="/track/lost"' in text


def test_a_customer_message_reaches_the_case_and_its_assignee(app, client, agent):
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    services.assign_case(ticket, agent, version=ticket.version, assignee=agent)
    db.session.commit()
    client.post("/track", data={"body": "请尽快回复，谢谢。"})
    db.session.refresh(ticket)
    assert ticket.responded_at is None
    notice = db.session.scalars(select(Reminder).where(Reminder.kind == "customer_message")).one()
    assert notice.user_id == agent.id
    staff = app.test_client()
    login(staff, agent.email)
    assert "请尽快回复" in staff.get(f"/tickets/{ticket.reference}").get_data(as_text=True)


def test_internal_notes_never_appear_in_the_portal(client, agent):
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    services.add_note(ticket, agent, body="INTERNAL: customer seems to exaggerate")
    services.send_message(ticket, agent, body="We are sorry, a technician will call you today.")
    db.session.commit()
    page = client.get("/track").get_data(as_text=True)
    assert "technician will call" in page and "INTERNAL" not in page and "exaggerate" not in page


def test_tracking_tokens_are_hidden_in_request_logs(app):
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - "%s" %s',
        ("127.0.0.1", "GET /track/SeCrEtToKeN123 HTTP/1.1", "302"),
        None,
    )
    for log_filter in logging.getLogger("werkzeug").filters:
        log_filter.filter(record)
    assert "SeCrEtToKeN123" not in record.getMessage() and "/track/[token]" in record.getMessage()


def _case_at(agent, supervisor, step, client):
    from tests.factories import to_step

    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    services.assign_case(ticket, agent, version=ticket.version, assignee=agent)
    db.session.commit()
    return to_step(ticket, agent, step, approver=supervisor) if step != "listen" else ticket


def test_the_customer_accepts_the_proposal_and_the_case_moves_on(client, agent, supervisor):
    from tests.factories import propose

    ticket = _case_at(agent, supervisor, "resolve", client)
    propose(ticket, agent, amount=80)
    page = client.get("/track").get_data(as_text=True)
    assert "Our proposal" in page and "Replace the kettle" in page
    client.post("/track/answer", data={"version": ticket.version, "answer": "accept"})
    db.session.refresh(ticket)
    assert ticket.resolution_state == "accepted"
    assert "Thank you: you accepted our proposal." in client.get("/track").get_data(as_text=True)


def test_a_rejection_needs_a_reason_and_is_then_recorded(client, agent, supervisor):
    from tests.factories import propose

    ticket = _case_at(agent, supervisor, "resolve", client)
    propose(ticket, agent, amount=80)
    refused = client.post("/track/answer", data={"version": ticket.version, "answer": "reject", "reason": ""})
    assert refused.status_code == 422 and b"Please tell us why" in refused.data
    client.post("/track/answer", data={"version": ticket.version, "answer": "reject", "reason": "Too <b>little</b>"})
    db.session.refresh(ticket)
    assert ticket.resolution_state == "rejected"
    page = client.get("/track").get_data(as_text=True)
    assert "you rejected our proposal, saying “Too &lt;b&gt;little&lt;/b&gt;”" in page  # echoed, escaped


def test_the_survey_is_offered_after_the_follow_up_and_answered_once(client, agent, supervisor):
    from ticketing.cases.survey import SurveyResponse

    _case_at(agent, supervisor, "review", client)
    assert "How did we do?" in client.get("/track").get_data(as_text=True)
    answers = {
        "satisfaction": "4",
        "recommend": "9",
        "buy_again": "yes",
        "fair_outcome": "4",
        "fair_process": "5",
        "fair_treatment": "5",
        "comment": "很好",
    }
    assert client.post("/track/survey", data=answers).status_code == 302
    row = db.session.scalars(select(SurveyResponse)).one()
    assert (row.satisfaction, row.recommend, row.fair_process) == (4, 9, 5)
    assert "How did we do?" not in client.get("/track").get_data(as_text=True)
    client.post("/track/survey", data=answers)
    assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1


def test_the_confirmation_email_carries_a_working_private_link(app, client, inbox):
    from ticketing.scheduling.dispatcher import dispatch_due

    app.config["PUBLIC_URL"] = "http://desk.example"
    submit(client)
    dispatch_due()
    mail = inbox.to("xm.wang@example.cn")[0]
    link = re.search(r"http://desk\.example(/track/\S+)", mail.get_content()).group(1)
    opened = app.test_client().get(link)
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/track")


def test_recovering_the_link_answers_the_same_whether_or_not_the_case_exists(app, client):
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    before = db.session.scalar(select(func.count(Reminder.id)).where(Reminder.kind == "portal_link"))
    right = app.test_client().post("/track/lost", data={"reference": ticket.reference, "email": "XM.Wang@example.cn"})
    wrong = app.test_client().post("/track/lost", data={"reference": ticket.reference, "email": "other@example.cn"})
    missing = app.test_client().post("/track/lost", data={"reference": "C-2026-999999", "email": "xm.wang@example.cn"})
    without_csrf = lambda response: re.sub(rb'name="csrf_token" value="[^"]*"', b"", response.data)  # noqa: E731
    assert right.status_code == wrong.status_code == missing.status_code == 200
    assert without_csrf(right) == without_csrf(wrong) == without_csrf(missing)
    after = db.session.scalar(select(func.count(Reminder.id)).where(Reminder.kind == "portal_link"))
    assert after == before + 1


def test_a_customer_reopens_a_closed_case_only_within_the_window(app, client, agent, supervisor, frozen_clock):
    ticket = _case_at(agent, supervisor, "review", client)
    services.record_review(ticket, agent, version=ticket.version, summary="Fixed", lesson="Stock spares")
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    frozen_clock.move(days=app.config["REOPEN_DAYS"] + 1)
    assert "Is the problem back?" not in client.get("/track").get_data(as_text=True)
    client.post("/track/reopen", data={"version": ticket.version, "reason": "Broken again"})
    db.session.refresh(ticket)
    assert ticket.status == "closed"
    frozen_clock.move(days=-5)
    assert "Is the problem back?" in client.get("/track").get_data(as_text=True)
    client.post("/track/reopen", data={"version": ticket.version, "reason": "Broken again"})
    db.session.refresh(ticket)
    assert (ticket.status, ticket.step) == ("open", "analyse")


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _with_files(*files):
    from io import BytesIO

    return {**COMPLAINT, "attachments": [(BytesIO(data), name) for name, data in files]}


def test_a_photo_is_stored_and_served_only_to_the_case(app, client, agent):
    from ticketing.cases.attachments import Attachment

    response = client.post("/complain", data=_with_files(("leak.png", PNG)), content_type="multipart/form-data")
    assert response.status_code == 302
    row = db.session.scalars(select(Attachment)).one()
    assert (row.content_type, row.original_name) == ("image/png", "leak.png")
    mine = client.get(f"/track/attachments/{row.id}")
    assert mine.status_code == 200 and mine.data == PNG
    assert mine.headers["Content-Disposition"].startswith("attachment")
    assert app.test_client().get(f"/track/attachments/{row.id}").status_code == 404  # a stranger
    staff = app.test_client()
    login(staff, agent.email)
    ticket = db.session.get(Ticket, row.ticket_id)
    assert staff.get(f"/tickets/{ticket.reference}/attachments/{row.id}").data == PNG


def test_wrong_type_and_oversize_files_are_refused_and_nothing_is_saved(app, client):
    from ticketing.cases.attachments import Attachment

    disguised = client.post(
        "/complain", data=_with_files(("photo.png", b"<script>alert(1)</script>")), content_type="multipart/form-data"
    )
    assert disguised.status_code == 422 and "is not a photo" in disguised.get_data(as_text=True)
    app.config["MAX_ATTACHMENT_BYTES"] = 100
    big = client.post(
        "/complain", data=_with_files(("big.png", PNG + b"\x00" * 200)), content_type="multipart/form-data"
    )
    assert big.status_code == 422 and "is larger than" in big.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_the_private_link_opens_the_case_in_the_customers_language(app, client):
    client.post("/language", data={"locale": "zh_CN", "next": "/complain"})
    submit(client)
    path = "/" + private_link(client).split("/", 3)[3]
    browser = app.test_client()  # another device, English by default
    browser.get(path)
    assert "我们已收到您的投诉" in browser.get("/track").get_data(as_text=True)


def test_the_tracking_page_names_the_steps_and_shows_the_customers_own_complaint(client):
    submit(client, wish="A new kettle, please")
    link = private_link(client)
    client.get(link)
    page = client.get("/track").get_data(as_text=True)
    names = re.findall(r'<span class="name">([^<]+)</span>', page)
    assert names == [
        "Complaint received",
        "We contact you",
        "Finding the cause",
        "Our proposal",
        "Checking with you",
        "Completed",
    ]
    assert 'aria-current="step"' in page
    assert "What you told us" in page and COMPLAINT["what_happened"] in page and "A new kettle, please" in page


def test_before_a_proposal_the_customer_is_told_by_when(client, agent):
    submit(client)
    ticket = db.session.scalars(select(Ticket)).one()
    client.get(private_link(client))
    page = client.get("/track").get_data(as_text=True)
    assert "We will get back to you by" in page
    services.send_message(ticket, agent, body="We are on it.")
    db.session.commit()
    page = client.get("/track").get_data(as_text=True)
    assert "We will get back to you by" not in page and "We aim to propose a solution by" in page
