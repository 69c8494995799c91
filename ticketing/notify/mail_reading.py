"""Reading a customer's e-mail: who sent it, what it answers, its text and files, and whether a person
wrote it at all.

Mail programs write what they like: Chinese ones often declare GB2312 and use characters only GBK or
GB18030 have, headers come as encoded words in any charset, the text may be only HTML. Everything is
decoded here once, with the Chinese charsets read as GB18030 (which contains them both), so the rest of
the desk sees plain text. HTML is never shown as sent: it is cleaned by nh3 (an allow-list of harmless
tags and attributes, no scripts, styles or event handlers) and turned into text for the case.

An automatic message (an out-of-office reply, a bounce, a mailing list) is told apart by the headers
RFC 3834 and RFC 3464 define and those common mail systems add, so that it never opens a case, restarts
a clock or answers back: two auto-responders answering each other is how mail loops start.
"""

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parseaddr

import nh3

# Declared charsets read as the one that contains them: GB2312 and GBK mail regularly holds characters
# only GBK (or GB18030) has, and Python's gb2312 codec refuses them.
CHARSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "gb_2312-80": "gb18030"}
CHARSETS |= {"euc-cn": "gb18030", "ks_c_5601-1987": "cp949", "us-ascii": "utf-8", "ascii": "utf-8"}
REFERENCE = re.compile(r"\bC-\d{4}-\d{6}\b")
THREAD = re.compile(r"<case-(C-\d{4}-\d{6})@", re.I)
MAX_TEXT = 20_000  # characters of a mail's text kept on the case (the whole original is kept apart)
# Tags and attributes an e-mail's HTML may keep when shown: text structure, links and tables, no styling.
TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "li", "ol", "p"}
TAGS |= {"pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul"}
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


class UnreadableMail(Exception):
    """The bytes are not a mail this desk can read (no sender, say): kept and shown to staff."""


@dataclass
class ReadMail:
    message_id: str | None  # as sent, with its angle brackets; None when it has none
    answers: list[str]  # the Message-IDs it says it answers (In-Reply-To, References)
    subject: str
    sender_name: str
    sender: str  # the From address, lower case
    text: str  # the body as text: the plain part, or the HTML part as text
    html: str | None  # the HTML part, cleaned (for showing the original)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)  # (file name, content)
    automatic: str | None = None  # "auto-reply", "bounce" or "list" when no person wrote it
    content_hash: str = ""  # SHA-256 of the raw bytes: the same mail again, when it has no Message-ID
    language: str = "en"  # the language to answer in: "zh_CN" for a mail in Chinese

    @property
    def reference(self) -> str | None:
        """The case it is about: a case's thread id among what it answers, else a reference in its subject."""
        for answered in self.answers:
            found = THREAD.search(answered)
            if found:
                return found.group(1).upper()
        found = REFERENCE.search(self.subject or "")
        return found.group(0) if found else None


def read(raw: bytes) -> ReadMail:
    """Parse a mail as fetched; raises UnreadableMail when it has no usable sender."""
    try:
        message = message_from_bytes(raw, policy=policy.compat32)  # headers kept raw: decoded below
    except Exception as error:  # the parser is lenient; anything it cannot take is kept as unreadable
        raise UnreadableMail(f"not a mail message: {error}") from error
    sender_name, sender = parseaddr(header_text(message, "From"))
    sender = sender.strip().lower()
    if not re.fullmatch(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]+", sender):
        raise UnreadableMail("the From header holds no e-mail address")
    text, cleaned, files = _body(message)
    answers = [word for name in ("In-Reply-To", "References") for word in header_text(message, name).split()]
    return ReadMail(
        message_id=(header_text(message, "Message-ID").strip() or None),
        answers=answers,
        subject=_one_line(header_text(message, "Subject")),
        sender_name=_one_line(sender_name),
        sender=sender,
        text=text[:MAX_TEXT],
        html=cleaned,
        attachments=files,
        automatic=automatic(message, sender),
        content_hash=hashlib.sha256(raw).hexdigest(),
        language=language(header_text(message, "Content-Language"), f"{header_text(message, 'Subject')} {text[:500]}"),
    )


HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language(declared: str, words: str) -> str:
    """The language to answer in: the one the mail declares, else Chinese when it is written in Chinese."""
    declared = declared.strip().lower()
    if declared:
        return "zh_CN" if declared.startswith("zh") else "en"
    return "zh_CN" if HAN.search(words) else "en"


def header_text(message: Message, name: str) -> str:
    """A header's words, every encoded word decoded in its charset (the Chinese ones as GB18030)."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        parts = decode_header(str(value))
    except Exception:  # a malformed encoded word: the raw text is still better than nothing
        return str(value)
    words = []
    for part, charset in parts:
        if isinstance(part, bytes):
            words.append(_decode(part, charset))
        else:
            words.append(part)
    try:
        return str(make_header([(word, "utf-8") for word in words])) if len(words) > 1 else "".join(words)
    except Exception:
        return "".join(words)


def _decode(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; a wrong or unknown declaration falls back to UTF-8, then GB18030."""
    declared = (charset or "utf-8").strip().lower()
    for name in dict.fromkeys([CHARSETS.get(declared, declared), "utf-8", "gb18030"]):
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def _body(message: Message) -> tuple[str, str | None, list[tuple[str, bytes]]]:
    """(text, cleaned HTML, attachments): the first plain and first HTML part that are not files."""
    plain = markup = None
    files = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        name = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        kind = part.get_content_type()
        if disposition == "attachment" or (name and kind not in ("text/plain", "text/html")):
            files.append((_file_name(part, name), payload))
        elif kind == "text/plain" and plain is None:
            plain = _decode(payload, part.get_content_charset())
        elif kind == "text/html" and markup is None:
            markup = _decode(payload, part.get_content_charset())
    cleaned = clean_html(markup) if markup else None
    text = plain if plain and plain.strip() else html_text(cleaned or "")
    return text.replace("\r\n", "\n").strip(), cleaned, files


def _file_name(part: Message, name: str | None) -> str:
    if not name:
        return "attachment"
    try:
        return str(make_header(decode_header(name)))
    except Exception:
        return name


def clean_html(markup: str) -> str:
    """The HTML with only harmless tags and attributes (nh3's allow-list): safe to show in a page."""
    return nh3.clean(markup, tags=TAGS, attributes=ATTRIBUTES, link_rel="noopener noreferrer nofollow")


def html_text(markup: str) -> str:
    """Cleaned HTML as text: paragraphs and line breaks kept, every tag dropped, entities decoded."""
    spaced = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li|h[1-4]|blockquote)>", "\n", markup)
    plain = nh3.clean(spaced, tags=set())
    lines = [" ".join(line.split()) for line in html.unescape(plain).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# Where quoted history begins: "On … wrote:", "在 … 写道：", Outlook's separator and header block.
QUOTE_START = re.compile(
    r"^(On .{3,200} wrote:|在.{2,200}写道[：:]|-{2,}\s*(Original Message|原始邮件)\s*-{2,}|"
    r"(From|发件人)[:：] .+)\s*$",
    re.M,
)


def new_part(text: str) -> str:
    """What the customer wrote this time: the text before the quoted history (lines starting with ">",
    and everything after an "On … wrote:" line or its Chinese and Outlook forms). The whole text when
    nothing would be left."""
    found = QUOTE_START.search(text)
    head = text[: found.start()] if found else text
    kept = [line for line in head.splitlines() if not line.lstrip().startswith(">")]
    trimmed = "\n".join(kept).strip()
    return trimmed or text.strip()


AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
BOUNCERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounces?)([+@-]|$)", re.I)


def automatic(message: Message, sender: str) -> str | None:
    """Why no person wrote this (a bounce, an auto-reply, a list mail), or None."""
    report = message.get_content_type() == "multipart/report"
    if report or BOUNCERS.match(sender) or (message.get("Return-Path") or "").strip() == "<>":
        return "bounce"
    submitted = (message.get("Auto-Submitted") or "no").strip().lower()
    if submitted != "no" or message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto-reply"
    if (message.get("Precedence") or "").strip().lower() in AUTOMATIC_PRECEDENCE:
        return "auto-reply"
    if message.get("List-Id") or message.get("List-Unsubscribe"):
        return "list"
    return None
