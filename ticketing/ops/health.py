"""Readiness: each check names what it found, and why it is not ready when it is not."""

from dataclasses import asdict, dataclass, field

from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.migration_heads import migration_heads
from ticketing.scheduling import heartbeat
from ticketing.scheduling.backlog import backlog


@dataclass
class Check:
    ok: bool
    reason: str | None = None  # why not ready (None when ok)
    details: dict = field(default_factory=dict)


def readiness() -> dict[str, Check]:
    """The database first: without it, the other checks are not run (and say so)."""
    checks = {"database": database_check()}
    if not checks["database"].ok:
        skipped = Check(False, "not checked: the database is unreachable")
        return checks | {"migrations": skipped, "scheduler": skipped, "reminders": skipped}
    try:
        checks |= {"migrations": migrations_check(), "scheduler": scheduler_check(), "reminders": reminders_check()}
    finally:
        db.session.rollback()  # a probe leaves no transaction open on the pooled connection
    return checks


def as_json(checks: dict[str, Check]) -> dict:
    return {
        "status": "ready" if all(check.ok for check in checks.values()) else "not ready",
        "checks": {name: {k: v for k, v in asdict(check).items() if v or k == "ok"} for name, check in checks.items()},
    }


def database_check() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        return Check(False, f"the database is unreachable: {type(getattr(error, 'orig', None) or error).__name__}")
    return Check(True, details={"engine": db.engine.dialect.name})


def migrations_check() -> Check:
    heads = migration_heads()
    try:
        current = {row[0] for row in db.session.execute(text("SELECT version_num FROM alembic_version"))}
    except SQLAlchemyError:
        db.session.rollback()
        return Check(False, "the database has no migration history: run flask db upgrade", {"head": sorted(heads)})
    details = {"current": sorted(current), "head": sorted(heads)}
    if current != heads:
        return Check(False, "the database is not at the code's migration head: run flask db upgrade", details)
    return Check(True, details=details)


def scheduler_check() -> Check:
    now, expected = utcnow(), current_app.config["SCHEDULER_PROCESSES"]
    fresh_after = now - heartbeat.max_age()
    beats = heartbeat.beats()
    alive = [beat for beat in beats if beat.last_seen >= fresh_after]
    details = {
        "expected": expected,
        "alive": [beat.name for beat in alive],
        "silent": {beat.name: beat.last_seen.isoformat() for beat in beats if beat.last_seen < fresh_after},
    }
    if len(alive) >= expected:
        return Check(True, details=details)
    seconds = int(heartbeat.max_age().total_seconds())
    if not beats:
        reason = "no scheduler heartbeat recorded: is flask scheduler run running?"
    else:
        reason = f"{len(alive)} of {expected} scheduler processes beat in the last {seconds} s"
    return Check(False, reason, details)


def reminders_check() -> Check:
    state = backlog(utcnow())
    limit = current_app.config["READY_MAX_DISPATCH_LAG_SECONDS"]
    details = {"due": state.due, "lag_seconds": round(state.lag_seconds, 1), "failed": state.reminders["failed"]}
    if state.lag_seconds > limit:
        return Check(False, f"the oldest due reminder or message has waited more than {limit} s", details)
    return Check(True, details=details)
