"""Complaints and replies by e-mail, read from a real IMAP server (Debian's Dovecot, tests/imap_server.py):
each mail filed once, as a complaint, a message on its case, or kept for staff."""

import base64
import imaplib
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from tests.imap_server import ImapServer, require_dovecot
from ticketing.cases.attachments import Attachment
from ticketing.cases.models import Customer, Message, Reminder, Ticket
from ticketing.extensions import db
from ticketing.notify import intake
from ticketing.notify.email import build_message
from ticketing.notify.models import InboundMail, Mailbox

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def mailbox(app, tmp_path):
    require_dovecot()
    with ImapServer(tmp_path / "imap") as server:
        user, password = quote(server.user, safe=""), quote(server.password, safe="")
        app.config["MAIL_INTAKE"] = f"imap+plain://{user}:{password}@127.0.0.1:{server.port}/INBOX?name=complaints"
        yield server


def mail(
    sender="Emily Clark <emily@example.com>", subject="Broken kettle", body="The kettle I bought leaks.", **headers
):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, "complaints@example.test", subject
    message["Date"] = formatdate()
    message["Message-ID"] = headers.pop("message_id", f"<{abs(hash((sender, subject, body)))}@mail.example.com>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def poll() -> intake.Polled:
    polled = intake.poll_all()
    assert not polled.errors, polled.errors
    return polled


def outcomes() -> list[str]:
    return list(db.session.scalars(select(InboundMail.outcome).order_by(InboundMail.id)))


def test_a_mailed_complaint_opens_a_case_for_the_customer_found_by_address(app, mailbox, agent):
    known = Customer(name="Emily Clark", email="emily@example.com")
    db.session.add(known)
    db.session.commit()
    mailbox.append(mail().as_bytes())
    assert poll().filed == {"complaint": 1}
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.channel, ticket.subject, ticket.customer_id) == ("email", "Broken kettle", known.id)
    assert ticket.customer.locale == "en"
    assert ticket.description == "The kettle I bought leaks."
    assert ticket.assignee_id is None and ticket.step == "listen"
    confirmation = db.session.scalars(select(Reminder).where(Reminder.ticket_id == ticket.id)).all()
    assert "portal_link" in {reminder.kind for reminder in confirmation}  # "received", with the private link
    assert poll().read == 0  # nothing new: nothing read again


def test_a_chinese_mail_in_gbk_with_only_html_is_read_and_cleaned(app, mailbox):
    html = "<p>我买的冰箱门是坏的，喆。</p><script>alert(1)</script><p onclick='x()'>请尽快处理</p>"
    raw = (
        "From: =?gb2312?B?" + base64.b64encode("李磊".encode("gb18030")).decode() + "?= <li.lei@example.cn>\r\n"
        "To: complaints@example.test\r\n"
        "Subject: =?gbk?B?" + base64.b64encode("冰箱坏了".encode("gb18030")).decode() + "?=\r\n"
        "Message-ID: <gbk-1@example.cn>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=gb2312\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + base64.encodebytes(html.encode("gb18030"))
    mailbox.append(raw)
    poll()
    ticket = db.session.scalars(select(Ticket)).one()
    assert ticket.subject == "冰箱坏了" and ticket.customer.name == "李磊"
    assert ticket.customer.locale == "zh_CN"  # answered in Chinese
    assert ticket.description == "我买的冰箱门是坏的，喆。\n请尽快处理"
    assert "alert" not in ticket.description


def test_a_reply_lands_on_its_case_without_the_quoted_history(app, mailbox):
    mailbox.append(mail().as_bytes())
    poll()
    ticket = db.session.scalars(select(Ticket)).one()
    notice = build_message(to="emily@example.com", subject="Your case", body="We are on it.", token="t1")
    thread = f"<case-{ticket.reference}@localhost>"
    reply = mail(
        subject=f"Re: Your case {ticket.reference}",
        body=f"It leaks again today.\n\nOn 1 Dec 2026, the desk wrote:\n> We are on it.\n> {notice['Subject']}",
        In_Reply_To=thread,
        References=thread,
    )
    mailbox.append(reply.as_bytes())
    assert poll().filed == {"reply": 1}
    (message,) = db.session.scalars(select(Message).where(Message.ticket_id == ticket.id)).all()
    assert message.author_id is None and message.body == "It leaks again today."
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
    row = db.session.scalars(select(InboundMail).where(InboundMail.outcome == "reply")).one()
    assert row.ticket_id == ticket.id and b"We are on it." in row.raw  # the whole original is kept


def test_a_reference_from_someone_else_never_lands_on_the_case(app, mailbox):
    mailbox.append(mail().as_bytes())
    poll()
    ticket = db.session.scalars(select(Ticket)).one()
    mailbox.append(mail(sender="mallory@example.net", subject=f"About {ticket.reference}", body="Close it.").as_bytes())
    poll()
    assert db.session.scalar(select(func.count(Message.id))) == 0
    assert outcomes() == ["complaint", "complaint"]


def test_auto_replies_bounces_and_our_own_messages_are_kept_but_do_nothing(app, mailbox):
    mailbox.append(mail().as_bytes())
    poll()
    ticket = db.session.scalars(select(Ticket)).one()
    thread = f"<case-{ticket.reference}@localhost>"
    mailbox.append(
        mail(subject="Out of office", body="I am away.", Auto_Submitted="auto-replied", In_Reply_To=thread).as_bytes()
    )
    mailbox.append(mail(subject="Away", body="Back Monday.", Precedence="auto_reply").as_bytes())
    bounce = EmailMessage()
    bounce["From"], bounce["To"], bounce["Subject"] = (
        "MAILER-DAEMON@mx.example.com",
        "complaints@example.test",
        "Undelivered",
    )
    bounce["Message-ID"] = "<bounce-1@mx.example.com>"
    bounce.set_content("Delivery failed.")
    bounce.add_attachment("Status: 5.1.1", subtype="delivery-status")
    mailbox.append(bounce.as_bytes())
    own = build_message(to="complaints@example.test", subject="Your case", body="We are on it.", token="loop-1")
    own.replace_header("From", "Emily Clark <emily@example.com>")
    mailbox.append(own.as_bytes())
    assert poll().filed == {"automatic": 3, "ours": 1}
    assert db.session.scalar(select(func.count(Ticket.id))) == 1
    assert db.session.scalar(select(func.count(Message.id))) == 0
    notes = set(db.session.scalars(select(InboundMail.note).where(InboundMail.outcome == "automatic")))
    assert notes == {"auto-reply", "bounce"}


def test_our_messages_tell_auto_responders_not_to_answer_and_send_replies_to_the_desk(app):
    app.config["MAIL_REPLY_TO"] = "complaints@example.test"
    message = build_message(to="emily@example.com", subject="Your case", body="We are on it.", token="t2")
    assert message["Auto-Submitted"] == "auto-generated" and message["Reply-To"] == "complaints@example.test"


def test_an_attachment_is_kept_when_the_portal_would_take_it(app, mailbox):
    message = mail(body="Photo attached.")
    message.add_attachment(PNG, maintype="image", subtype="png", filename="leak.png")
    message.add_attachment(
        b"MZ\x90\x00 not a photo", maintype="application", subtype="octet-stream", filename="run.exe"
    )
    mailbox.append(message.as_bytes())
    poll()
    (kept,) = db.session.scalars(select(Attachment)).all()
    assert (kept.original_name, kept.content_type, kept.size) == ("leak.png", "image/png", len(PNG))
    assert b"run.exe" in db.session.scalars(select(InboundMail.raw)).one()  # refused, yet kept in the original


def test_the_same_mail_twice_is_one_case_but_a_reused_message_id_is_not_a_duplicate(app, mailbox):
    first = mail(message_id="<same@mail.example.com>").as_bytes()
    mailbox.append(first)
    mailbox.append(first)
    mailbox.append(
        mail(message_id="<same@mail.example.com>", subject="Another", body="A different problem.").as_bytes()
    )
    polled = poll()
    assert (polled.read, polled.duplicates, polled.filed) == (3, 1, {"complaint": 2})
    assert db.session.scalar(select(func.count(Ticket.id))) == 2


def test_a_renumbered_mailbox_is_read_again_and_files_only_what_is_new(app, mailbox):
    old = mail().as_bytes()
    mailbox.append(old)
    poll()
    before = db.session.scalars(select(Mailbox)).one().uidvalidity
    assert mailbox.recreate() != before
    mailbox.append(old)
    mailbox.append(mail(sender="li.lei@example.cn", subject="New one", body="Another problem.").as_bytes())
    polled = poll()
    assert (polled.duplicates, polled.filed) == (1, {"complaint": 1})
    assert db.session.scalars(select(Mailbox)).one().uidvalidity != before
    assert db.session.scalar(select(func.count(Ticket.id))) == 2


def test_mail_read_elsewhere_is_still_filed_and_left_as_it_was(app, mailbox):
    mailbox.append(mail().as_bytes())
    client = imaplib.IMAP4(mailbox.host, mailbox.port)
    client.login(mailbox.user, mailbox.password)
    client.select("INBOX")
    client.uid("STORE", "1:*", "+FLAGS", r"(\Seen)")  # another mail program read it
    mailbox.append(mail(sender="li.lei@example.cn", subject="Unread", body="Second.").as_bytes())
    assert poll().filed == {"complaint": 2}
    client.noop()  # this session learns of the second mail
    _status, flags = client.uid("FETCH", "1:*", "(FLAGS)")
    assert [b"\\Seen" in line for line in flags] == [True, False]  # the poller marked nothing
    client.logout()


def test_an_unreadable_mail_and_a_flood_are_kept_for_staff(app, mailbox):
    mailbox.append(b"Subject: no sender at all\r\n\r\nHello")
    for n in range(intake.FLOOD_LIMIT + 1):
        mailbox.append(mail(sender="flood@example.com", subject=f"Spam {n}", body=f"Buy now {n}").as_bytes())
    poll()
    found = outcomes()
    assert found[0] == "unreadable" and found.count("complaint") == intake.FLOOD_LIMIT and found[-1] == "flood"
    assert db.session.scalars(select(InboundMail.note).where(InboundMail.outcome == "unreadable")).one()


def test_a_mailbox_that_cannot_be_reached_is_reported_and_read_later(app, mailbox):
    app.config["MAIL_INTAKE"] = app.config["MAIL_INTAKE"].replace(mailbox.password.replace(" ", "%20"), "wrong")
    polled = intake.poll_all()
    assert polled.errors and "complaints" in polled.errors[0]
    assert db.session.scalars(select(Mailbox.last_error)).one()


def test_supervisors_read_the_kept_mail_cleaned_and_download_its_original(app, mailbox, client, supervisor, agent):
    from tests.conftest import login

    message = mail(subject="Away", body="Back Monday.", Auto_Submitted="auto-replied")
    hostile = "<p>Back <b>Monday</b></p><script>steal()</script><img src=x onerror=steal()>"
    message.add_alternative(hostile, subtype="html")
    mailbox.append(message.as_bytes())
    poll()
    row = db.session.scalars(select(InboundMail)).one()
    login(client, supervisor.email)
    listing = client.get("/admin/mail/").get_data(as_text=True)
    assert "emily@example.com" in listing and "Automatic (auto-reply, bounce or list)" in listing
    shown = client.get(f"/admin/mail/{row.id}").get_data(as_text=True)
    assert "<b>Monday</b>" in shown and "steal()" not in shown and "onerror" not in shown
    original = client.get(f"/admin/mail/{row.id}/original.eml")
    assert original.status_code == 200 and original.get_data() == row.raw
    assert original.headers["Content-Type"] == "message/rfc822"
    client.post("/logout")
    login(client, agent.email)
    assert client.get(f"/admin/mail/{row.id}").status_code == 403


def test_a_mailbox_over_tls_is_read_with_the_certificate_trusted(app, mailbox):
    user, password = quote(mailbox.user, safe=""), quote(mailbox.password, safe="")
    app.config["MAIL_INTAKE"] = f"imaps://{user}:{password}@127.0.0.1:{mailbox.tls_port}/INBOX?name=complaints"
    app.config["MAIL_INTAKE_CA_FILE"] = str(mailbox.certificate)
    mailbox.append(mail().as_bytes())
    assert poll().filed == {"complaint": 1}
    app.config["MAIL_INTAKE_CA_FILE"] = None  # a certificate nobody vouches for is refused, not read
    mailbox.append(mail(subject="Second", body="Another.").as_bytes())
    polled = intake.poll_all()
    assert polled.errors and "CERTIFICATE_VERIFY_FAILED" in polled.errors[0]
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_the_customer_is_told_they_may_answer_by_mail_when_replies_come_back_to_the_desk(app):
    from ticketing.notify.messages import customer_body

    details = {
        "reference": "C-2026-000001",
        "customer": "Emily Clark",
        "message": "We are on it.",
        "link": "https://x/t",
    }
    with app.test_request_context():
        assert "You can reply at the link below." in customer_body("staff_message", details)
        app.config["MAIL_REPLY_TO"] = "complaints@example.test"
        assert "Reply to this e-mail, or at the link below." in customer_body("staff_message", details)


def test_a_mail_that_cannot_be_filed_is_kept_and_the_next_ones_are_filed(app, mailbox, monkeypatch):
    real = intake._decide

    def failing(row, mail, now):
        if mail.subject == "Breaks the desk":
            raise ValueError("something no test foresaw")
        return real(row, mail, now)

    monkeypatch.setattr(intake, "_decide", failing)
    mailbox.append(mail(subject="Breaks the desk", body="Odd.").as_bytes())
    mailbox.append(mail(sender="li.lei@example.cn", subject="Next one", body="Filed.").as_bytes())
    assert poll().filed == {"unreadable": 1, "complaint": 1}
    kept = db.session.scalars(select(InboundMail).where(InboundMail.outcome == "unreadable")).one()
    assert kept.note == "could not be filed: ValueError: something no test foresaw" and b"Odd." in kept.raw
    assert poll().read == 0  # not tried again and again


def test_the_case_page_says_what_came_by_mail_and_supervisors_open_the_whole_mail(
    app, mailbox, client, supervisor, agent
):
    from tests.conftest import login

    mailbox.append(mail().as_bytes())
    poll()
    ticket = db.session.scalars(select(Ticket)).one()
    thread = f"<case-{ticket.reference}@localhost>"
    mailbox.append(mail(subject="Re: your case", body="Still leaking.\n> quoted", In_Reply_To=thread).as_bytes())
    poll()
    complaint, reply = db.session.scalars(select(InboundMail.id).order_by(InboundMail.id)).all()
    login(client, supervisor.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "It came by e-mail." in page and f'href="/admin/mail/{complaint}"' in page
    assert "· by e-mail" in page and f'href="/admin/mail/{reply}"' in page
    client.post("/logout")
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert "· by e-mail" in page and "/admin/mail/" not in page


def test_a_mail_too_large_keeps_its_headers_and_is_shown_to_staff(app, mailbox):
    app.config["MAIL_INTAKE_MAX_BYTES"] = 4_000
    mailbox.append(mail(subject="Huge scan", body="x" * 20_000).as_bytes())
    mailbox.append(mail(sender="li.lei@example.cn", subject="Small", body="Fine.").as_bytes())
    assert poll().filed == {"unreadable": 1, "complaint": 1}
    kept = db.session.scalars(select(InboundMail).where(InboundMail.outcome == "unreadable")).one()
    assert kept.note.startswith("could not be filed: larger than 0.004 MB") and "only its headers are kept" in kept.note
    assert (kept.sender, kept.subject) == ("emily@example.com", "Huge scan")
    assert b"Subject: Huge scan" in kept.raw and b"xxxx" not in kept.raw
