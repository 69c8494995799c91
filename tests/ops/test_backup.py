"""flask backup create / restore: one archive of the database, the uploads and the anchors (never the
audit keys), restored into an empty database and folders, ending with audit verify (both databases)."""

import io
import json
import tarfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from config import TestConfig
from tests.databases import temporary_postgres_database
from tests.factories import open_case
from ticketing import backup, create_app
from ticketing.cases import anchors
from ticketing.cases.attachments import Attachment, path_of, save_attachments
from ticketing.cases.models import Ticket
from ticketing.clock import utcnow
from ticketing.extensions import db

PNG = b"\x89PNG\r\n\x1a\n" + b"receipt" * 20


@pytest.fixture
def source(app, agent, tmp_path, at_head):
    """The desk to back up: two cases, a stored file, an anchor on disk."""
    app.config.update(UPLOAD_DIR=str(tmp_path / "uploads"), AUDIT_ANCHOR_DIR=str(tmp_path / "anchors"))
    ticket = open_case(agent)
    open_case(agent)
    save_attachments(ticket, [FileStorage(io.BytesIO(PNG), filename="receipt.png")])
    db.session.commit()
    anchors.write(anchors.take(utcnow()), app.config["AUDIT_ANCHOR_DIR"])
    return app


@contextmanager
def empty_target(database_url, folder: Path, **config):
    """Another installation: a database with no tables, empty folders."""
    with _empty_database(database_url, folder) as url:
        settings = {
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(folder / "uploads"),
            "AUDIT_ANCHOR_DIR": str(folder / "anchors"),
        }
        target = create_app(type("Target", (TestConfig,), settings | config))
        try:
            yield target
        finally:
            with target.app_context():
                db.engine.dispose()


@contextmanager
def _empty_database(database_url, folder: Path):
    if database_url.startswith("postgresql"):
        with temporary_postgres_database(database_url, "ticketing_restore") as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'restored.sqlite'}"


def back_up(app, tmp_path) -> Path:
    result = app.test_cli_runner().invoke(args=["backup", "create", "--out", str(tmp_path / "backups")])
    assert result.exit_code == 0, result.output
    assert "The audit keys (AUDIT_KEYS / AUDIT_KEY_FILE) are not in the archive" in result.output
    (archive,) = (tmp_path / "backups").glob("backup-*.tar.gz")
    return archive


def restore(target, archive, *flags):
    with target.app_context():  # the command runs in the target's context, not the test's
        return target.test_cli_runner().invoke(args=["backup", "restore", str(archive), *flags])


def test_a_backup_restored_into_a_fresh_installation_verifies_with_its_files_and_anchors(
    source, database_url, tmp_path
):
    archive = back_up(source, tmp_path)
    cases = db.session.scalar(select(func.count(Ticket.id)))
    with empty_target(database_url, tmp_path / "target") as target:
        result = restore(target, archive)
        assert result.exit_code == 0, result.output
        assert "Record log intact:" in result.output
        assert "Security log intact:" in result.output
        assert "Every stored attachment matches its sealed SHA-256." in result.output
        assert "Everything anchored in" in result.output
        assert "Replaced" not in result.output
        with target.app_context():
            assert db.session.scalar(select(func.count(Ticket.id))) == cases
            (attachment,) = db.session.scalars(select(Attachment))
            assert path_of(attachment).read_bytes() == PNG
            assert len(list(Path(target.config["AUDIT_ANCHOR_DIR"]).glob("anchor-*.json"))) == 1


def test_the_archive_carries_no_audit_key(source, tmp_path):
    archive = back_up(source, tmp_path)
    secret = TestConfig.AUDIT_KEYS.split(":", 1)[1].encode()
    with tarfile.open(archive) as opened:
        names = opened.getnames()
        contents = b"".join(opened.extractfile(m).read() for m in opened.getmembers() if m.isfile())
    assert "manifest.json" in names and any(name.startswith("uploads/") for name in names)
    assert secret not in contents
    assert archive.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_restore_refuses_a_target_that_is_not_empty_and_says_what_force_would_replace(
    source, database_url, tmp_path, agent
):
    archive = back_up(source, tmp_path)
    with empty_target(database_url, tmp_path / "target") as target:
        assert restore(target, archive).exit_code == 0
        with target.app_context():
            stray = Path(target.config["UPLOAD_DIR"]) / "stray.bin"
            stray.write_bytes(b"not in the backup")
        refused = restore(target, archive)
        assert refused.exit_code == 1
        assert "Nothing restored: The target is not empty; a restore would replace the " in refused.output
        assert "2 cases" in refused.output and "(2 files)" in refused.output
        assert "add --force" in refused.output
        assert stray.exists()
        forced = restore(target, archive, "--force")
        assert forced.exit_code == 0, forced.output
        assert "Replaced the uploads folder" in forced.output
        assert "Record log intact:" in forced.output
        assert not stray.exists()
        with target.app_context():
            assert db.session.scalar(select(func.count(Ticket.id))) == 2


def test_restore_with_other_audit_keys_ends_with_verify_naming_the_broken_seal(source, database_url, tmp_path):
    archive = back_up(source, tmp_path)
    other_keys = {"AUDIT_KEYS": "other:another-key-that-is-long-enough-to-seal-with"}
    with empty_target(database_url, tmp_path / "target", **other_keys) as target:
        result = restore(target, archive)
        assert result.exit_code == 1
        assert "Restored the backup made at" in result.output
        assert "Record log broken at" in result.output


@pytest.mark.parametrize(
    "kind, why",
    [
        ("not a tar", "file could not be opened"),
        ("no manifest", "no readable manifest"),
        ("no database", "it is incomplete"),
        ("a link out", "is a link to an absolute path"),
    ],
)
def test_restore_refuses_an_archive_that_is_no_backup(source, tmp_path, kind, why):
    archive = tmp_path / "archive.tar.gz"
    manifest = json.dumps({"format": backup.FORMAT, "engine": db.engine.dialect.name}).encode()
    members = {
        "no manifest": [("hello.txt", b"")],
        "no database": [("manifest.json", manifest)],
        "a link out": [("manifest.json", manifest), ("uploads/passwd", None)],
    }
    if kind == "not a tar":
        archive.write_bytes(b"not an archive at all\n" * 50)
    else:
        with tarfile.open(archive, "w:gz") as opened:
            for name, data in members[kind]:
                info = tarfile.TarInfo(name)
                if data is None:
                    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                else:
                    info.size = len(data)
                opened.addfile(info, io.BytesIO(data) if data is not None else None)
    cases = db.session.scalar(select(func.count(Ticket.id)))
    result = restore(source, archive, "--force")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Nothing restored: ") and why in result.output
    assert db.session.scalar(select(func.count(Ticket.id))) == cases


def test_a_damaged_database_in_the_archive_restores_nothing(source, database_url, tmp_path):
    archive = back_up(source, tmp_path)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as good, tarfile.open(damaged, "w:gz") as bad:
        for member in good.getmembers():
            data = good.extractfile(member).read() if member.isfile() else None
            if member.name.startswith("database."):
                data = b"\x00garbage" * 500
                member.size = len(data)
            bad.addfile(member, io.BytesIO(data) if data is not None else None)
    with empty_target(database_url, tmp_path / "target") as target:
        assert restore(target, archive).exit_code == 0
        result = restore(target, damaged, "--force")
        assert result.exit_code == 1
        assert result.output.startswith("Error: Nothing restored: ")
        with target.app_context():
            assert db.session.scalar(select(func.count(Ticket.id))) == 2  # the database as it was
            assert [p.read_bytes() for p in Path(target.config["UPLOAD_DIR"]).rglob("*") if p.is_file()] == [PNG]
