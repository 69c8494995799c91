"""An attachment's name is kept safe: the last part of the path, no control or invisible characters,
and the extension of what the file is (a JPEG sent as photo.jpg.html is photo.jpg), so neither the
page listing it nor the file a colleague downloads can pass for something else."""

from io import BytesIO

import pytest
from sqlalchemy import select

from tests.portal.test_portal import COMPLAINT
from ticketing.cases.attachments import Attachment, safe_name
from ticketing.extensions import db

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(
    ("sent", "content_type", "kept"),
    [
        ("photo.jpg.html", "image/jpeg", "photo.jpg"),
        ("invoice.pdf.exe", "application/pdf", "invoice.pdf"),
        ("invoice.pdf.exe", "image/png", "invoice.pdf.png"),
        ("scan", "application/pdf", "scan.pdf"),
        ("Leak.JPEG", "image/jpeg", "Leak.JPEG"),
        ("C:\\Users\\li\\Desktop\\leak.png", "image/png", "leak.png"),
        ("../../etc/passwd", "image/gif", "passwd.gif"),
        ("receipt\u202egpj.exe", "image/jpeg", "receiptgpj.jpg"),  # a right-to-left override is dropped
        ("x\r\nBcc: y.png", "image/png", "xBcc: y.png"),
        ("...", "image/png", "attachment.png"),
        ("收据\u3000三月.pdf", "application/pdf", "收据 三月.pdf"),
        ("a" * 300 + ".png", "image/png", "a" * 196 + ".png"),
    ],
)
def test_the_kept_name_is_safe_and_ends_as_the_file_is(sent, content_type, kept):
    assert safe_name(sent, content_type) == kept


def test_a_disguised_upload_is_stored_and_downloaded_under_its_true_extension(app, client):
    files = [(BytesIO(JPEG), "photo.jpg.html"), (BytesIO(PDF), "invoice.pdf.exe")]
    answer = client.post("/complain", data={**COMPLAINT, "attachments": files}, content_type="multipart/form-data")
    assert answer.status_code == 302
    rows = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [(row.original_name, row.content_type) for row in rows] == [
        ("photo.jpg", "image/jpeg"),
        ("invoice.pdf", "application/pdf"),
    ]
    download = client.get(f"/track/attachments/{rows[0].id}")
    disposition = download.headers["Content-Disposition"]
    assert download.status_code == 200 and disposition == "attachment; filename=photo.jpg"


def test_a_refused_file_is_named_safely_in_the_reason(app, client):
    files = [(BytesIO(b"<script>alert(1)</script>"), "dir/evil\x1b[31m.png")]
    answer = client.post("/complain", data={**COMPLAINT, "attachments": files}, content_type="multipart/form-data")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "evil[31m.png is not a photo" in text and "\x1b" not in text
