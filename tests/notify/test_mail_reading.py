"""Reading customers' mail as mail programs write it: charsets and transfer encodings, quoted history
in English and Chinese, and the headers that say no person wrote it."""

import base64
import quopri

import pytest

from ticketing.notify.mail_reading import UnreadableMail, new_part, read


def raw(headers: dict, body: bytes) -> bytes:
    lines = [f"{name}: {value}" for name, value in {"From": "Li Lei <li.lei@example.cn>", **headers}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_quoted_printable_utf8_and_a_gb18030_only_character():
    text = "快递三周没到，𠀀也没有消息。"  # 𠀀 is four bytes in GB18030, outside GBK
    mail = read(
        raw(
            {
                "Subject": "=?utf-8?Q?=E5=BF=AB=E9=80=92?=",
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Transfer-Encoding": "quoted-printable",
            },
            quopri.encodestring(text.encode()),
        )
    )
    assert (mail.subject, mail.text) == ("快递", text)
    other = read(
        raw(
            {"Subject": "x", "Content-Type": "text/plain; charset=gb18030", "Content-Transfer-Encoding": "base64"},
            base64.encodebytes(text.encode("gb18030")),
        )
    )
    assert other.text == text


def test_a_wrongly_declared_charset_falls_back_instead_of_garbling():
    mail = read(raw({"Content-Type": "text/plain; charset=iso-8859-1x"}, "退款".encode()))
    assert mail.text == "退款"


@pytest.mark.parametrize(
    "text",
    [
        "Still broken.\n\nOn Tue, 1 Dec 2026 at 09:00, Service Desk <desk@example.test> wrote:\n> We are on it.",
        "Still broken.\n\n在 2026年12月1日 09:00，客服中心 写道：\n> 我们正在处理。",
        "Still broken.\n\n-----Original Message-----\nFrom: Service Desk\nSent: Tuesday",
        "Still broken.\n\n发件人: 客服中心 <desk@example.test>\n发送时间: 2026年12月1日",
        "> We are on it.\nStill broken.",
    ],
)
def test_the_quoted_history_is_trimmed_in_english_chinese_and_outlook_forms(text):
    assert new_part(text) == "Still broken."


def test_a_mail_that_is_all_quote_keeps_its_text():
    assert new_part("> only a quote") == "> only a quote"


@pytest.mark.parametrize(
    "headers, kind",
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-reply"),
        ({"Auto-Submitted": "no"}, None),
        ({"X-Autoreply": "yes"}, "auto-reply"),
        ({"Precedence": "bulk"}, "auto-reply"),
        ({"List-Id": "<offers.example.com>"}, "list"),
        ({"Return-Path": "<>"}, "bounce"),
        ({"From": "MAILER-DAEMON@mx.example.com"}, "bounce"),
        ({"Content-Type": 'multipart/report; report-type=delivery-status; boundary="b"'}, "bounce"),
    ],
)
def test_automatic_mail_is_told_apart_by_its_headers(headers, kind):
    assert read(raw(headers, b"Text")).automatic == kind


def test_a_mail_without_a_sender_address_is_unreadable():
    with pytest.raises(UnreadableMail):
        read(b"From: nobody\r\nSubject: hi\r\n\r\nHello")
