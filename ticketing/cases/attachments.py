"""Files customers attach: images and PDF only, checked by content and size, stored outside the
web root under random names and served only to people allowed to see the case."""

import secrets
from datetime import datetime
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.cases.services.base import Change
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime

# What a file's first bytes must be, whatever its name says.
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
MAX_FILES = 3


class Attachment(db.Model):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    from_customer: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def sniff(head: bytes) -> str | None:
    for content_type, prefixes in SIGNATURES.items():
        if head.startswith(prefixes):
            return content_type
    return None


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
            reasons.append(_l("%(name)s is larger than %(mb)d MB.", name=upload.filename, mb=limit // 1_000_000))
        elif sniff(data[:16]) is None:
            reasons.append(_l("%(name)s is not a photo (JPEG, PNG, GIF) or a PDF.", name=upload.filename))
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
        row = Attachment(
            ticket_id=ticket.id,
            message_id=message.id if message else None,
            original_name=Path(upload.filename).name[:200],
            content_type=sniff(data[:16]),
            size=len(data),
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
