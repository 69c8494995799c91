"""Sending one e-mail over SMTP, with a Message-ID that makes a repeat recognisable."""

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from flask import current_app


class DeliveryError(Exception):
    """The message could not be handed to the SMTP server; the dispatcher retries."""


def smtp_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def _header(value: str) -> str:
    """Header values never carry line breaks (header injection)."""
    if "\r" in value or "\n" in value:
        raise ValueError("line break in an e-mail header value")
    return value


def message_id(token: str) -> str:
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost"
    return f"<{_header(token)}@{_header(domain)}>"


def build_message(
    *, to: str, subject: str, body: str, token: str, to_name: str = "", locale: str = "en"
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = _header(current_app.config["MAIL_FROM"])
    msg["To"] = formataddr((_header(to_name), _header(to)))
    msg["Subject"] = _header(subject)
    msg["Message-ID"] = message_id(token)
    msg["Date"] = formatdate(localtime=False)
    msg.set_content(body)  # clears every Content-* header, so Content-Language comes after it
    msg["Content-Language"] = "zh-CN" if locale.startswith("zh") else "en"
    return msg


def send(message: EmailMessage) -> None:
    config = current_app.config
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"]) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"{type(error).__name__}: {error}") from error
