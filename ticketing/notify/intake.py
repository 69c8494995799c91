"""Complaints and replies by e-mail: the mailboxes in MAIL_INTAKE are read over IMAP by the scheduler,
and each mail is filed exactly once.

- Reading goes by UID, never by the unread flag (another mail program marking a mail read must not hide
  it), with the mailbox opened read-only and BODY.PEEK (nothing is marked). The mailbox's UIDVALIDITY
  and the last UID filed are kept in the database (`Mailbox`); a new UIDVALIDITY reads it again from
  the start.
- Filing a mail and moving the last UID past it are one transaction: a poller killed at any moment
  either filed the mail and moved on, or did neither and reads it again. A mail seen again anyway (the
  mailbox renumbered, two schedulers at once) is known by its identity (`identity`) and filed once.
- What a mail becomes (OUTCOMES): a new complaint (channel e-mail, the customer found by address or
  made, the confirmation with the private link sent as for any complaint); a message from the customer
  on the case it answers (the response clock restarts and the assignee is told); or nothing, kept and
  listed for staff: an automatic reply or bounce (which must never open a case or answer back), one of
  our own messages come back, a sender writing more than FLOOD_LIMIT mails an hour, a reply to a case
  that is closed, or a mail that cannot be read.
"""

import hashlib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from io import BytesIO
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from ticketing.cases import attachments
from ticketing.cases.models import Message, Ticket
from ticketing.cases.services import handling, intake
from ticketing.cases.vocabulary import Channel, Status
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.notify.mail_reading import ReadMail, UnreadableMail, new_part, read
from ticketing.notify.models import InboundMail, Mailbox

COMPLAINT, REPLY, AUTOMATIC, OURS, FLOOD, LATE, UNREADABLE = (
    "complaint",
    "reply",
    "automatic",
    "ours",
    "flood",
    "late_reply",
    "unreadable",
)
OUTCOMES = (COMPLAINT, REPLY, AUTOMATIC, OURS, FLOOD, LATE, UNREADABLE)
FLOOD_LIMIT = 20  # mails from one sender in an hour; more are kept but not filed
BATCH = 200  # mails a pass reads from one mailbox (the next pass goes on)
SUBJECT_LENGTH = 200
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailboxSettings:
    """One mailbox of MAIL_INTAKE: imaps://user:password@host:993/INBOX (TLS), imap://… with STARTTLS,
    or imap+plain://… without TLS (for a server on this machine only); ?name=… names it."""

    name: str
    host: str
    port: int
    user: str
    password: str
    folder: str
    security: str  # "tls", "starttls" or "none"
    ca_file: str | None = None


def mailboxes() -> list[MailboxSettings]:
    """The mailboxes MAIL_INTAKE names (space-separated URLs; the password percent-encoded)."""
    found = []
    for url in (current_app.config.get("MAIL_INTAKE") or "").split():
        parts = urlsplit(url)
        security = {"imaps": "tls", "imap": "starttls", "imap+plain": "none"}.get(parts.scheme)
        if security is None or not parts.hostname or not parts.username:
            raise ValueError(
                f"MAIL_INTAKE: not an imaps://, imap:// or imap+plain:// URL with a user: {parts.scheme}://…"
            )
        query = parse_qs(parts.query)
        found.append(
            MailboxSettings(
                name=(query.get("name") or [f"{unquote(parts.username)}@{parts.hostname}"])[0][:80],
                host=parts.hostname,
                port=parts.port or (993 if security == "tls" else 143),
                user=unquote(parts.username),
                password=unquote(parts.password or ""),
                folder=unquote(parts.path.lstrip("/")) or "INBOX",
                security=security,
                ca_file=current_app.config.get("MAIL_INTAKE_CA_FILE"),
            )
        )
    return found


@dataclass
class Polled:
    read: int = 0
    filed: dict = field(default_factory=dict)  # outcome -> count
    duplicates: int = 0
    errors: list = field(default_factory=list)

    def summary(self) -> str:
        filed = ", ".join(f"{count} {outcome}" for outcome, count in sorted(self.filed.items())) or "nothing new"
        errors = f"; errors: {'; '.join(self.errors)}" if self.errors else ""
        return f"{self.read} mails read: {filed}; {self.duplicates} already filed{errors}"


def poll_all(now: datetime | None = None) -> Polled:
    """Read every mailbox once (BATCH mails at most from each)."""
    polled = Polled()
    for settings in mailboxes():
        try:
            poll(settings, polled)
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:  # the next pass tries again
            db.session.rollback()
            polled.errors.append(f"{settings.name}: {error}")
            _note_error(settings.name, f"{type(error).__name__}: {error}")
    return polled


def _connect(settings: MailboxSettings) -> imaplib.IMAP4:
    timeout = current_app.config.get("MAIL_INTAKE_TIMEOUT", 30)
    context = ssl.create_default_context(cafile=settings.ca_file)
    if settings.security == "tls":
        imap = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=timeout)
    else:
        imap = imaplib.IMAP4(settings.host, settings.port, timeout=timeout)
    try:
        if settings.security == "starttls":
            imap.starttls(context)
        imap.login(settings.user, settings.password)
    except BaseException:
        imap.shutdown()
        raise
    return imap


def poll(settings: MailboxSettings, polled: Polled) -> None:
    """Read the mails of one mailbox after the last UID filed, each filed in its own transaction."""
    imap = _connect(settings)
    try:
        status, _data = imap.select(_quoted(settings.folder), readonly=True)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot open the folder {settings.folder}")
        uidvalidity = int(imap.untagged_responses["UIDVALIDITY"][-1])
        last = _start(settings.name, uidvalidity)
        status, data = imap.uid("SEARCH", f"UID {last + 1}:*")
        # "n:*" also names the last mail when it is below n: keep only those after the last UID filed.
        uids = sorted(uid for uid in (int(word) for word in (data[0] or b"").split()) if uid > last)[:BATCH]
        limit = current_app.config["MAIL_INTAKE_MAX_BYTES"]
        for uid in uids:
            size = _size(imap, uid)
            part = "BODY.PEEK[HEADER]" if size > limit else "BODY.PEEK[]"  # a huge mail: its headers only
            status, data = imap.uid("FETCH", str(uid), f"({part})")
            raw = next((part[1] for part in data if isinstance(part, tuple)), None)
            if status != "OK" or raw is None:  # expunged meanwhile: nothing to file, move past it
                raw = None
            polled.read += 1
            try:
                if raw is not None and size > limit:
                    too_big = f"larger than {limit / 1_000_000:g} MB ({size:,} bytes): only its headers are kept"
                    outcome = keep_unfiled(settings.name, uidvalidity, uid, raw, too_big)
                else:
                    outcome = file_mail(settings.name, uidvalidity, uid, raw)
            except Exception as error:  # a mail the desk cannot file must not stop every mail after it
                db.session.rollback()
                outcome = keep_unfiled(settings.name, uidvalidity, uid, raw or b"", f"{type(error).__name__}: {error}")
            if outcome is None:
                polled.duplicates += 1
            else:
                polled.filed[outcome] = polled.filed.get(outcome, 0) + 1
    finally:
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def _size(imap: imaplib.IMAP4, uid: int) -> int:
    """The mail's size as the server gives it (RFC822.SIZE), 0 when it does not say."""
    status, data = imap.uid("FETCH", str(uid), "(RFC822.SIZE)")
    found = re.search(rb"RFC822\.SIZE (\d+)", data[0] if status == "OK" and data and data[0] else b"")
    return int(found.group(1)) if found else 0


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _start(name: str, uidvalidity: int) -> int:
    """The last UID filed under this UIDVALIDITY (0 for a mailbox new or renumbered); committed."""
    mailbox = _locked_mailbox(name)
    if mailbox.uidvalidity != uidvalidity:
        mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
    mailbox.polled_at, mailbox.last_error = utcnow(), None
    last = mailbox.last_uid
    db.session.commit()
    return last


def _locked_mailbox(name: str) -> Mailbox:
    """The mailbox's row, locked until the transaction ends (PostgreSQL; SQLite's writers take turns)."""
    query = select(Mailbox).where(Mailbox.name == name).with_for_update()
    mailbox = db.session.scalars(query).one_or_none()
    if mailbox is None:
        db.session.add(Mailbox(name=name, last_uid=0))
        db.session.flush()
        mailbox = db.session.scalars(query).one()
    return mailbox


def _note_error(name: str, error: str) -> None:
    mailbox = _locked_mailbox(name)
    mailbox.polled_at, mailbox.last_error = utcnow(), error[:1000]
    db.session.commit()


def file_mail(name: str, uidvalidity: int, uid: int, raw: bytes | None) -> str | None:
    """File one mail and move the mailbox's last UID past it, in one transaction; returns the outcome,
    or None when the mail was filed before (or was gone)."""
    mailbox = _moved_past(name, uidvalidity, uid)
    if mailbox is None:
        return None
    outcome = _file(mailbox, uidvalidity, uid, raw) if raw is not None else None
    db.session.commit()
    return outcome


def keep_unfiled(name: str, uidvalidity: int, uid: int, raw: bytes, problem: str) -> str | None:
    """A mail that cannot be filed (its filing failed, or it is too large): kept as unreadable with the
    reason, and the mailbox moved past it, so the mails after it are filed and staff see it (never
    retried for ever, never dropped)."""
    log.error("mail %s of %s kept unfiled: %s", uid, name, problem)
    mailbox = _moved_past(name, uidvalidity, uid)
    if mailbox is None:
        return None
    try:  # who sent it and about what, when its headers can be read
        mail = read(raw)
    except Exception:
        mail = None
    key = identity(None, raw)
    if not _known(mailbox, key):
        row = _kept(mailbox, uidvalidity, uid, key, mail, raw)
        row.outcome, row.note = UNREADABLE, f"could not be filed: {problem}"[:1000]
        db.session.add(row)
    db.session.commit()
    return UNREADABLE


def _moved_past(name: str, uidvalidity: int, uid: int) -> Mailbox | None:
    """The mailbox, locked, with its last UID moved to `uid`; None (rolled back) when another poller
    got there first or the mailbox was renumbered meanwhile."""
    mailbox = _locked_mailbox(name)
    if mailbox.uidvalidity != uidvalidity or uid <= mailbox.last_uid:
        db.session.rollback()
        return None
    mailbox.last_uid = uid
    return mailbox


def identity(mail: ReadMail | None, raw: bytes) -> str:
    if mail is None or not mail.message_id:
        return hashlib.sha256(raw).hexdigest()
    same = "\n".join([mail.message_id, mail.sender, mail.subject, mail.text])
    return hashlib.sha256(same.encode()).hexdigest()


def _known(mailbox: Mailbox, key: str) -> bool:
    query = select(InboundMail.id).where(InboundMail.mailbox_id == mailbox.id, InboundMail.identity == key)
    return db.session.scalar(query) is not None


def _kept(mailbox: Mailbox, uidvalidity: int, uid: int, key: str, mail: ReadMail | None, raw: bytes) -> InboundMail:
    """The row that keeps a mail whole, with what its headers say when they could be read."""
    return InboundMail(
        mailbox_id=mailbox.id,
        uidvalidity=uidvalidity,
        uid=uid,
        identity=key,
        message_id=mail.message_id[:250] if mail and mail.message_id else None,
        sender=mail.sender[:254] if mail else None,
        subject=(mail.subject if mail else "")[:250],
        received_at=utcnow(),
        raw=raw,
    )


def _file(mailbox: Mailbox, uidvalidity: int, uid: int, raw: bytes) -> str | None:
    try:
        mail, problem = read(raw), None
    except UnreadableMail as error:
        mail, problem = None, str(error)
    key = identity(mail, raw)
    if _known(mailbox, key):
        return None
    row = _kept(mailbox, uidvalidity, uid, key, mail, raw)
    if mail is None:
        row.outcome, row.note = UNREADABLE, problem
    else:
        _decide(row, mail, row.received_at)
    db.session.add(row)
    return row.outcome


def _decide(row: InboundMail, mail: ReadMail, now: datetime) -> None:
    """What the mail becomes; the case it is about is linked even when nothing is done with it."""
    case = _case_answered(mail)
    row.ticket_id = case.id if case is not None else None
    if _ours(mail):
        row.outcome, row.note = OURS, "one of the desk's own messages"
    elif mail.automatic:
        row.outcome, row.note = AUTOMATIC, mail.automatic
    elif _flooding(mail.sender, now):
        row.outcome, row.note = FLOOD, f"more than {FLOOD_LIMIT} mails from this sender in an hour"
    elif case is not None and case.status != Status.OPEN:
        row.outcome, row.note = LATE, "a reply to a case that is no longer open"
    elif case is not None:
        message = _customer_writes(case, mail)
        row.outcome, row.message_row_id = REPLY, message.id if message is not None else None
    else:
        row.outcome = COMPLAINT
        row.ticket_id = _new_complaint(mail).id


def _case_answered(mail: ReadMail) -> Ticket | None:
    """The case the mail answers, when its sender is that case's customer (a reference anyone can
    type never puts a stranger's words on someone else's case)."""
    reference = mail.reference
    if reference is None:
        return None
    ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one_or_none()
    while ticket is not None and ticket.merged_into_id is not None:
        ticket = db.session.get(Ticket, ticket.merged_into_id)
    if ticket is None or (ticket.customer.email or "").lower() != mail.sender:
        return None
    return ticket


def _ours(mail: ReadMail) -> bool:
    """One of the messages this desk sent (come back as a copy, or sent to its own mailbox)."""
    ours = current_app.config["MAIL_FROM"].rpartition("@")[2].lower()
    sent_here = bool(mail.message_id) and mail.message_id.lower().rstrip(">").endswith("@" + ours)
    return sent_here or mail.sender == current_app.config["MAIL_FROM"].lower()


def _flooding(sender: str, now: datetime) -> bool:
    count = select(func.count(InboundMail.id)).where(
        InboundMail.sender == sender, InboundMail.received_at > now - timedelta(hours=1)
    )
    return (db.session.scalar(count) or 0) >= FLOOD_LIMIT


def _files(mail: ReadMail) -> list[FileStorage]:
    """The mail's attachments as uploads, those the portal would take (attachments.problems)."""
    kept = []
    for name, data in mail.attachments:
        upload = FileStorage(stream=BytesIO(data), filename=name or "attachment")
        if not attachments.problems([upload]) and len(kept) < attachments.MAX_FILES:
            kept.append(upload)
    return kept


def _customer_writes(case: Ticket, mail: ReadMail) -> Message | None:
    text = new_part(mail.text) or mail.subject
    handling.send_message(case, None, body=text)
    message = db.session.scalars(
        select(Message).where(Message.ticket_id == case.id).order_by(Message.id.desc()).limit(1)
    ).first()
    files = _files(mail)
    if files:
        attachments.save_attachments(case, files, message)
    return message


def _new_complaint(mail: ReadMail) -> Ticket:
    name = mail.sender_name or mail.sender.split("@")[0]
    customer = intake.find_or_create_customer(name[:120], mail.sender, None, locale=mail.language)
    text = new_part(mail.text) or mail.subject or "(no text)"
    subject = mail.subject or text.splitlines()[0]
    ticket = intake.take_complaint(
        None,
        customer=customer,
        subject=re.sub(r"\s+", " ", subject)[:SUBJECT_LENGTH],
        description=text,
        channel=Channel.EMAIL,
        assign=False,
    )
    files = _files(mail)
    if files:
        attachments.save_attachments(ticket, files)
    return ticket


def mails_of(ticket_id: int) -> dict:
    """The mails behind a case, for its page: {"complaint": the mail that opened it, or None,
    "messages": {message id: mail id}} (one query)."""
    rows = db.session.execute(
        select(InboundMail.id, InboundMail.outcome, InboundMail.message_row_id).where(
            InboundMail.ticket_id == ticket_id, InboundMail.outcome.in_((COMPLAINT, REPLY))
        )
    ).all()
    return {
        "complaint": next((mail_id for mail_id, outcome, _message in rows if outcome == COMPLAINT), None),
        "messages": {message: mail_id for mail_id, outcome, message in rows if outcome == REPLY and message},
    }
