"""The admin and security log: logins (failed ones too), logouts, password, role and account changes,
API tokens, reply templates, settings and catalogue edits, exports — who, when, from where, about what.

One global chain: each entry has its place (seq 1, 2, 3 …), the previous entry's hash, and a keyed
seal (ticketing/sealing.py) over its content and that hash, so an entry edited, removed from the
middle or re-sealed without the key breaks `verify()`; `head()` is what an anchor keeps, so a cut
tail shows against it. Appends are serialised (PostgreSQL: an advisory lock; SQLite: its write lock),
and the database refuses UPDATE, DELETE and TRUNCATE on the table.

`record()` stages an entry and never commits; once committed, each entry is also a line of the
logger "ticketing.security" at INFO (configure_logging keeps that level). Details never hold a
password or a token's secret.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import DDL, JSON, Index, Integer, String, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ticketing import sealing, validation
from ticketing.clock import as_utc, utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.labelled import LABELS, Labelled
from ticketing.types import UTCDateTime

_LOCK_NAMESPACE = 7_316  # the advisory lock of the security log: (namespace, 0); the record log's is 7_311
_PENDING = "ticketing.security_log.pending"  # the session's entries not yet committed, for the logger
TYPED_LENGTH = 254  # what is kept of an address typed at a failed login
log = logging.getLogger("ticketing.security")


class Kind(Labelled):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    USER_CREATED = "user_created"
    ROLE_CHANGED = "role_changed"
    ACTIVE_CHANGED = "active_changed"
    TOKEN_CREATED = "token_created"
    TOKEN_REVOKED = "token_revoked"
    TEMPLATE_SAVED = "template_saved"
    SETTING_CHANGED = "setting_changed"
    SETTINGS_EXPORTED = "settings_exported"
    CATALOGUE_CHANGED = "catalogue_changed"
    LOG_EXPORTED = "security_log_exported"


LABELS[Kind] = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "logout": _l("Logged out"),
    "password_changed": _l("Password changed"),
    "user_created": _l("Account created"),
    "role_changed": _l("Role changed"),
    "active_changed": _l("Account enabled or disabled"),
    "token_created": _l("API token created"),
    "token_revoked": _l("API token revoked"),
    "template_saved": _l("Reply template saved"),
    "setting_changed": _l("Setting changed"),
    "settings_exported": _l("Settings exported"),
    "catalogue_changed": _l("Catalogue changed"),
    "security_log_exported": _l("Security log exported"),
}


class SecurityEntry(db.Model):
    __tablename__ = "security_log"
    __table_args__ = (Index("ix_security_log_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)  # 1, 2, 3 … over the whole log
    prev_hash: Mapped[str | None] = mapped_column(String(64))  # None for the first entry
    key_id: Mapped[str] = mapped_column(String(16))  # the key that sealed it
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who did it, a snapshot of the name; no foreign key: the log outlives what it names.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    # What it is about: ("user", "5"), ("token", "3"), ("template", "7"), ("setting", "currency") …
    subject_type: Mapped[str | None] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(String(80))
    account_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the staff account concerned
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))

    def content(self) -> list:
        """What the seal covers: every column but the id and the seal itself."""
        return [
            self.seq,
            self.prev_hash,
            as_utc(self.created_at).isoformat(),
            self.actor_id,
            self.actor_name,
            self.kind,
            self.subject_type,
            self.subject_id,
            self.account_id,
            self.details,
            self.ip,
        ]


def record(
    kind: Kind, *, actor=None, subject: tuple[str, Any] | None = None, account=None, details: dict | None = None
) -> SecurityEntry:
    """Stage one entry at the end of the chain. `actor` did it (None: nobody known, or the command
    line); `account` is the staff account it concerns (defaults to a user subject); `details` are
    JSON facts (never a secret)."""
    subject_type, subject_id = subject if subject is not None else (None, None)
    if account is None and subject_type == "user":
        account = subject_id
    entry = SecurityEntry(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.name if actor is not None else None,
        kind=str(kind),
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id)[:80],
        account_id=getattr(account, "id", account),
        details=json.loads(sealing.canonical(details or {})),  # as the database gives it back
        ip=request.remote_addr[:45] if has_request_context() and request.remote_addr else None,
    )
    _link(entry)
    db.session.add(entry)
    db.session.info.setdefault(_PENDING, []).append(_line(entry))
    return entry


def typed(value: str | None) -> str:
    """What someone typed, fit for the log: one line, clipped, storable in either database."""
    value = validation.replace_control_characters(value or "")[:TYPED_LENGTH]
    return value.encode("utf-8", "replace").decode("utf-8")


def _link(entry: SecurityEntry) -> None:
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:space, 0)"), {"space": _LOCK_NAMESPACE})
    elif dialect == "sqlite":
        # The write lock before reading the end of the chain (as chain.link_all does): an UPDATE of no row.
        db.session.execute(text("UPDATE security_log SET seq = seq WHERE 0"))
    last = head()
    entry.seq = last[0] + 1 if last else 1
    entry.prev_hash = last[1] if last else None
    entry.key_id, entry.hash = sealing.seal(entry.content())


def head() -> tuple[int, str] | None:
    """(seq, hash) of the last entry, or None while the log is empty: what an anchor keeps."""
    last = db.session.execute(
        select(SecurityEntry.seq, SecurityEntry.hash).order_by(SecurityEntry.seq.desc()).limit(1)
    ).first()
    return (last.seq, last.hash) if last else None


@dataclass
class Break:
    entry_id: int | None
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"security log entry {self.seq}: {self.problem}"


def verify(anchor: tuple[int, str] | None = None, batch: int = 5000) -> tuple[int, Break | None]:
    """Walk the chain from its first entry: (entries checked, the first broken one or None). With an
    `anchor` (a former head()), the chain must still hold that entry with that hash."""
    checked, previous, anchored = 0, None, anchor is None
    rows = db.session.scalars(select(SecurityEntry).order_by(SecurityEntry.seq).execution_options(yield_per=batch))
    try:
        for row in rows:
            problem = _problem(row, previous)
            if problem:
                return checked, Break(row.id, row.seq, problem)
            if anchor is not None and row.seq == anchor[0]:
                if row.hash != anchor[1]:
                    return checked, Break(row.id, row.seq, "it is not the entry the anchor names")
                anchored = True
            checked, previous = checked + 1, row
    finally:
        rows.close()  # a server-side cursor on PostgreSQL
    if not anchored:
        return checked, Break(None, anchor[0], "the entries up to the anchor are missing")
    return checked, None


def _problem(row: SecurityEntry, previous: SecurityEntry | None) -> str | None:
    if row.seq != (previous.seq + 1 if previous else 1):
        return "an entry is missing before this one"
    if row.prev_hash != (previous.hash if previous else None):
        return "it does not follow the previous entry's hash"
    if not sealing.is_sealed(row.content(), row.key_id, row.hash):
        return "its content does not match its seal"
    return None


# --- the application log, once committed -------------------------------------------------------


def _line(entry: SecurityEntry) -> tuple:
    """The logger's arguments, taken when staged: after a commit the session may not read its rows."""
    return (
        "%s #%s by %s (user %s) about %s %s from %s: %s",
        entry.kind,
        entry.seq,
        entry.actor_name or "-",
        entry.actor_id or "-",
        entry.subject_type or "-",
        entry.subject_id or "-",
        entry.ip or "-",
        json.dumps(entry.details, ensure_ascii=False, sort_keys=True),
    )


@event.listens_for(Session, "after_commit")
def _log_committed(session) -> None:
    for line in session.info.pop(_PENDING, ()):
        log.info(*line)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session) -> None:
    session.info.pop(_PENDING, None)


# --- the database refuses UPDATE, DELETE and TRUNCATE ----------------------------------------------

SQLITE_TRIGGERS = [
    "CREATE TRIGGER security_log_no_update BEFORE UPDATE ON security_log "
    "BEGIN SELECT RAISE(ABORT, 'the security log is append-only'); END",
    "CREATE TRIGGER security_log_no_delete BEFORE DELETE ON security_log "
    "BEGIN SELECT RAISE(ABORT, 'the security log is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION security_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the security log is append-only'; END $$",
    "CREATE TRIGGER security_log_no_update BEFORE UPDATE ON security_log "
    "FOR EACH ROW EXECUTE FUNCTION security_log_append_only()",
    "CREATE TRIGGER security_log_no_delete BEFORE DELETE ON security_log "
    "FOR EACH ROW EXECUTE FUNCTION security_log_append_only()",
    "CREATE TRIGGER security_log_no_truncate BEFORE TRUNCATE ON security_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION security_log_append_only()",
]

for _statement in SQLITE_TRIGGERS:
    event.listen(SecurityEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in POSTGRES_TRIGGERS:
    event.listen(SecurityEntry.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
