"""Backups: the database (SQLite's online backup, or pg_dump), the uploads folder and the record log's
anchors, in one archive with a manifest; and their restore into an empty database and folders.

The audit keys (AUDIT_KEYS, AUDIT_KEY_FILE) are never in an archive: a backup carrying the keys that
seal the logs would let whoever holds it forge a log that verifies. Keep them apart; a restore needs
the same keys configured for `flask audit verify` to pass.
"""

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from ticketing.extensions import db
from ticketing.migration_heads import migration_heads

FORMAT = "complaint-desk backup 1"
DUMPS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
KEYS_NOTE = (
    "The audit keys (AUDIT_KEYS / AUDIT_KEY_FILE) are not in the archive: keep them apart from it. "
    "Restoring needs the same keys configured, or audit verify cannot check the seals."
)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, and nothing was changed."""


def folders() -> dict[str, Path]:
    """The folders a backup carries besides the database, by their name in the archive."""
    return {"uploads": Path(current_app.config["UPLOAD_DIR"]), "anchors": Path(current_app.config["AUDIT_ANCHOR_DIR"])}


def create(out: str | Path, now: datetime) -> tuple[Path, dict]:
    """Write the archive (`out` a folder: named by the moment) whole or not at all; readable by its owner only."""
    out = Path(out)
    path = out / f"backup-{now:%Y%m%dT%H%M%SZ}.tar.gz" if out.is_dir() or not out.suffix else out
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine()
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / DUMPS[engine]
        (_dump_sqlite if engine == "sqlite" else _dump_postgres)(dump)
        manifest = {
            "format": FORMAT,
            "made_at": now.isoformat(),
            "engine": engine,
            "migration": _migration(),
            "files": {name: _count(folder) for name, folder in folders().items()},
            "audit_keys": "not included",
        }
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            _add_bytes(archive, "manifest.json", json.dumps(manifest, indent=1).encode())
            archive.add(dump, arcname=dump.name)
            for name, folder in folders().items():
                if folder.is_dir():
                    archive.add(folder, arcname=name)
        os.chmod(partial, 0o600)  # the customers' complaints and files: not for every account on the machine
        os.replace(partial, path)
    return path, manifest


def occupied() -> list[str]:
    """What a restore would replace: a database with tables, folders with files."""
    found = []
    tables = inspect(db.engine).get_table_names()
    if tables:
        found.append(f"the {_engine()} database {_database_name()} ({len(tables)} tables{_cases(tables)})")
    for name, folder in folders().items():
        if count := _count(folder):
            found.append(f"the {name} folder {folder} ({count} file{'s' if count > 1 else ''})")
    return found


def restore(archive_path: str | Path, force: bool) -> tuple[dict, list[str]]:
    """Put the archive's database and folders in place of the target's: an empty target, or `force`.
    Returns the manifest and what was replaced."""
    with tarfile.open(archive_path, "r:*") as archive, tempfile.TemporaryDirectory() as work:
        manifest = _manifest(archive)
        replaced = occupied()
        if replaced and not force:
            raise BackupError(
                "The target is not empty; a restore would replace "
                + "; ".join(replaced)
                + ". Stop the web and scheduler processes, then add --force to replace them."
            )
        archive.extractall(work, filter="data")  # no absolute paths, links out or devices
        dump = Path(work) / DUMPS[manifest["engine"]]
        if not dump.is_file():
            raise BackupError(f"The archive has no {dump.name}: it is incomplete.")
        (_load_sqlite if manifest["engine"] == "sqlite" else _load_postgres)(dump, bool(replaced))
        for name, folder in folders().items():
            shutil.rmtree(folder, ignore_errors=True)
            source = Path(work) / name
            shutil.copytree(source, folder) if source.is_dir() else folder.mkdir(parents=True, exist_ok=True)
    return manifest, replaced


def migration_note(manifest: dict) -> str | None:
    """When the restored database is behind this code: the upgrade to run."""
    heads = migration_heads()
    if manifest["migration"] in heads:
        return None
    head = ", ".join(sorted(heads))
    return f"The restored database is at migration {manifest['migration']}, this code at {head}: run flask db upgrade."


def newest_anchor() -> Path | None:
    found = sorted(folders()["anchors"].glob("anchor-*.json"))
    return found[-1] if found else None


def _manifest(archive: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(archive.extractfile("manifest.json"))
    except (KeyError, AttributeError, ValueError) as error:
        raise BackupError("This is not a backup made by flask backup create: it has no readable manifest.") from error
    if manifest.get("format") != FORMAT or manifest.get("engine") not in DUMPS:
        raise BackupError(f"This archive's format ({manifest.get('format')}) is not {FORMAT}.")
    if manifest["engine"] != _engine():
        raise BackupError(
            f"This backup is of a {manifest['engine']} database and the target (DATABASE_URL) is {_engine()}: "
            f"restore it into {manifest['engine']}."
        )
    return manifest


def _dump_sqlite(dump: Path) -> None:
    """SQLite's online backup: a consistent copy while the desk keeps writing."""
    target = sqlite3.connect(dump)
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.backup(target)
    finally:
        raw.close()
        target.close()


def _load_sqlite(dump: Path, _replacing: bool) -> None:
    source = sqlite3.connect(dump)
    db.session.remove()
    raw = db.engine.raw_connection()
    try:
        source.backup(raw.driver_connection)  # page by page over whatever was there, in one step
    except sqlite3.DatabaseError as error:
        raise BackupError(f"the archive's database cannot be read: {error}") from error
    finally:
        raw.close()
        source.close()


def _dump_postgres(dump: Path) -> None:
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump)])


def _load_postgres(dump: Path, replacing: bool) -> None:
    """The dump as SQL, run by psql in one transaction: a failure anywhere leaves the target as it was.
    Replacing, the schema goes first, so what the archive does not have goes too (a newer table, a trigger)."""
    script = dump.with_suffix(".sql")
    _run(["pg_restore", "--no-owner", "--no-privileges", "--file", str(script), str(dump)], database=False)
    db.session.remove()
    db.engine.dispose()  # no pooled connection keeps plans of the tables being replaced
    drop = ["-c", "DROP SCHEMA public CASCADE", "-c", "CREATE SCHEMA public"] if replacing else []
    _run(["psql", "--single-transaction", "-v", "ON_ERROR_STOP=1", "-q", "-o", os.devnull, *drop, "-f", str(script)])


def _run(command: list[str], database: bool = True) -> None:
    """A PostgreSQL client on the database DATABASE_URL names; its password in the environment, not argv."""
    url = db.engine.url
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = os.environ | ({"PGPASSWORD": url.password} if url.password else {})
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed: install postgresql-client (the server's version or newer).")
    done = subprocess.run(
        [*command, *(["--dbname", conninfo] if database else [])], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")


def _engine() -> str:
    return db.engine.dialect.name


def _database_name() -> str:
    return db.engine.url.database or "in memory"


def _migration() -> str | None:
    try:
        return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        db.session.rollback()
        return None


def _cases(tables: list[str]) -> str:
    if "tickets" not in tables:
        return ""
    count = db.session.execute(text("SELECT count(*) FROM tickets")).scalar()
    db.session.rollback()
    return f", {count} cases"


def _count(folder: Path) -> int:
    return sum(1 for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    archive.addfile(info, fileobj=io.BytesIO(data))
