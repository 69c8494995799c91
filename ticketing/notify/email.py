"""Sending one e-mail over SMTP, with a Message-ID that makes a repeat recognisable."""

import re
import smtplib
import unicodedata
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses

from flask import current_app


class DeliveryError(Exception):
    """The message could not be handed to the SMTP server. `permanent` (a 5xx answer: no such
    mailbox, refused) is not worth retrying; anything else is retried later."""

    def __init__(self, text: str, permanent: bool = False):
        super().__init__(text)
        self.permanent = permanent


def smtp_configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def _header(value: str) -> str:
    """Header values never carry line breaks (header injection)."""
    if "\r" in value or "\n" in value:
        raise ValueError("line break in an e-mail header value")
    return value


NAME_IN_HEADER = 64
# Invisible characters that reorder or hide what is shown (bidi overrides and isolates, zero-width).
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def display_name(name: str) -> str:
    """A person's name as a To: header shows it: one line of printable characters, no invisible
    reordering marks, at most NAME_IN_HEADER characters."""
    name = _INVISIBLE.sub("", unicodedata.normalize("NFC", name or ""))
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return " ".join(name.split())[:NAME_IN_HEADER].strip()


def recipient(name: str, address: str) -> Address:
    """The To: address. The name is a display name only: whatever it holds (commas, angle
    brackets, quotes, @, non-ASCII, right-to-left text) the header must name `address` alone, read
    by this library or by a mail program's older parser. If it would not, the bare address is used."""
    _header(address)
    with_name = Address(display_name=display_name(name), addr_spec=address)
    if display_name(name) and _reads_as(with_name) == [address.lower()]:
        return with_name
    return Address(addr_spec=address)


def _reads_as(address: Address) -> list[str]:
    probe = EmailMessage()
    probe["To"] = address
    raw = probe.as_bytes(policy=policy.SMTP)
    parsed = message_from_bytes(raw, policy=policy.default)
    modern = [a.addr_spec.lower() for a in parsed["To"].addresses]
    header = raw.decode("ascii", "replace").split("\r\n\r\n", 1)[0].replace("\r\n ", " ").replace("\r\n\t", " ")
    legacy = [addr.lower() for _name, addr in getaddresses([header.split(":", 1)[1]])]
    return modern if modern == legacy else []


def message_id(token: str) -> str:
    domain = current_app.config["MAIL_FROM"].rpartition("@")[2] or "localhost"
    return f"<{_header(token)}@{_header(domain)}>"


def build_message(
    *, to: str, subject: str, body: str, token: str, to_name: str = "", locale: str = "en", thread: str | None = None
) -> EmailMessage:
    """One e-mail. `thread` (a Message-ID) makes it part of that conversation: mail programs show
    every message about one case together."""
    msg = EmailMessage()
    msg["From"] = _header(current_app.config["MAIL_FROM"])
    msg["To"] = recipient(to_name, to)
    msg["Subject"] = _header(subject)
    msg["Message-ID"] = message_id(token)
    if current_app.config.get("MAIL_REPLY_TO"):  # the customer's answer lands in the intake mailbox, on the case
        msg["Reply-To"] = _header(current_app.config["MAIL_REPLY_TO"])
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer it (no mail loops)
    if thread and thread != msg["Message-ID"]:
        msg["In-Reply-To"] = msg["References"] = _header(thread)
    msg["Date"] = formatdate(localtime=False)
    msg.set_content(body)  # clears every Content-* header, so Content-Language comes after it
    msg["Content-Language"] = "zh-CN" if locale.startswith("zh") else "en"
    return msg


class Mailer:
    """One SMTP connection for a dispatch pass: opened at the first message, reused for the next,
    opened again after the server dropped it. Use as a context manager; it says QUIT at the end."""

    def __init__(self):
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        config = current_app.config
        smtp = smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["SMTP_TIMEOUT"])
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        return smtp

    def send(self, message: EmailMessage) -> None:
        try:
            reused = self._smtp is not None and self._smtp.sock is not None
            if not reused:
                self._smtp = self._connect()
            try:
                self._smtp.send_message(message)
            except smtplib.SMTPServerDisconnected:
                if not reused:
                    raise
                # An idle connection the server closed: nothing was accepted on it, so one retry is safe.
                self._smtp = self._connect()
                self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            raise DeliveryError(f"SMTPRecipientsRefused: {error.recipients}", permanent=_permanent(*codes)) from error
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(f"{type(error).__name__}: {error}", permanent=_permanent(error.smtp_code)) from error
        except (OSError, smtplib.SMTPException) as error:
            self.close()
            raise DeliveryError(f"{type(error).__name__}: {error}") from error

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def _permanent(*codes: int) -> bool:
    return bool(codes) and all(500 <= code < 600 for code in codes)


def send(message: EmailMessage) -> None:
    """Send one message on a connection of its own."""
    with Mailer() as mailer:
        mailer.send(message)
