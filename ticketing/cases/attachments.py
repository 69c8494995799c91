"""Files customers attach: images and PDF only, checked by content and size, stored outside the
web root under random names and served only to people allowed to see the case. The name kept to show
and to download it by is made safe: the last part of the path, no control characters, and the
extension of the content found (photo.jpg.html that is a JPEG is kept as photo.jpg)."""

import hashlib
import re
import secrets
import unicodedata
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.cases import chain
from ticketing.cases.services.base import Change
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.types import UTCDateTime

# What a file's first bytes must be, whatever its name says.
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
# The extension a stored name ends with, per content type (the first one; the others are kept as sent).
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "application/pdf": (".pdf",),
}
MAX_FILES = 3
MAX_NAME = 200  # the column's length
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    # The file's SHA-256 as received, sealed in the record log: a stored file swapped later no longer
    # matches it (`flask audit verify --files`). None for files received before it was kept.
    sha256: Mapped[str | None] = mapped_column(String(64))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    from_customer: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


chain.seal_records(Attachment)


def sniff(head: bytes) -> str | None:
    for content_type, prefixes in SIGNATURES.items():
        if head.startswith(prefixes):
            return content_type
    return None


def display_name(filename: str) -> str:
    """The file's own name as a browser sent it, safe to show: the last part of a path (Windows' too),
    no control or invisible formatting characters (a right-to-left override can make gpj.exe look
    like exe.jpg), no surrounding spaces or dots."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    kinds = [(ch, unicodedata.category(ch)) for ch in name]
    name = "".join(" " if kind == "Zs" else ch for ch, kind in kinds if kind[0] != "C" and kind not in ("Zl", "Zp"))
    return name.strip(" .")


def safe_name(filename: str, content_type: str) -> str:
    """display_name() ending with the extension of what the file is: one that is not replaced
    (invoice.pdf.exe → invoice.pdf, photo.jpg.html → photo.jpg, scan → scan.pdf)."""
    wanted = EXTENSIONS[content_type]
    stem = display_name(filename)
    if not stem.lower().endswith(wanted):
        stem = _EXTENSION.sub("", stem).rstrip(" .")
    if stem.lower().endswith(wanted):
        stem, extension = stem[: stem.rindex(".")], stem[stem.rindex(".") :]
    else:
        extension = wanted[0]
    return (stem or "attachment")[: MAX_NAME - len(extension)] + extension


def problems(files) -> list:
    """Reasons to refuse the uploaded files (empty: all acceptable)."""
    files = [f for f in files if f and f.filename]
    limit = current_app.config["MAX_ATTACHMENT_BYTES"]
    reasons = []
    if len(files) > MAX_FILES:
        reasons.append(_l("Attach at most %(n)d files.", n=MAX_FILES))
    for upload in files:
        data = upload.stream.read(limit + 1)
        upload.stream.seek(0)
        if len(data) > limit:
            name = display_name(upload.filename)
            reasons.append(_l("%(name)s is larger than %(mb)d MB.", name=name, mb=limit // 1_000_000))
        elif sniff(data[:16]) is None:
            reasons.append(_l("%(name)s is not a photo (JPEG, PNG, GIF) or a PDF.", name=display_name(upload.filename)))
    return reasons


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_attachments(ticket, files, message=None) -> list[Attachment]:
    """Store checked files (call problems() first) and log them on the case."""
    change = Change(ticket, None, "attach")
    saved = []
    for upload in (f for f in files if f and f.filename):
        data = upload.stream.read()
        stored = secrets.token_hex(16)
        (upload_dir() / stored).write_bytes(data)
        content_type = sniff(data[:16])
        row = Attachment(
            ticket_id=ticket.id,
            message_id=message.id if message else None,
            original_name=safe_name(upload.filename, content_type),
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            stored_name=stored,
            created_at=utcnow(),
        )
        db.session.add(row)
        saved.append(row)
    if saved:
        change.log(files=[row.original_name for row in saved])
        change.done()
    return saved


def path_of(attachment: Attachment) -> Path:
    return upload_dir() / attachment.stored_name


def altered_files():
    """(attachment, what is wrong) for each stored file that is gone or no longer the file received."""
    rows = db.session.scalars(select(Attachment).where(Attachment.sha256.is_not(None)).order_by(Attachment.id))
    for row in rows:
        path = path_of(row)
        if not path.is_file():
            yield row, "is missing from the upload folder"
        elif hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256:
            yield row, "is not the file received (its SHA-256 differs)"
