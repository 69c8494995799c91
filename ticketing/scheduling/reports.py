"""Long reports worked out by the scheduler, never by a web worker.

A front door registers a kind of report (`kind`): a function from its parameters (plain JSON values) to
its content (text: a page's fragment, a list, a spreadsheet). A page that would take long asks for one
(`ask`) and gets at once the latest result for those parameters, if there is one, with the time its
figures were read; the scheduler's `reports` job (`work`) works out what was asked for, the oldest
request first, one report at a time. A result is served as it is for REPORT_FRESH_SECONDS; after that it
is still served, with its time, while a fresher one is worked out. Results nobody asked for in a week
are removed.

No web worker ever waits on the work: on a desk of a million cases a year's dashboard takes many
seconds, which held one of the two workers and every agent's queue page behind it.
"""

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.scheduling import heartbeat
from ticketing.scheduling.models import ReportSnapshot

log = logging.getLogger(__name__)

WANTED, WORKING, READY, FAILED = "wanted", "working", "ready", "failed"
LEASE = timedelta(minutes=15)  # a report "working" this long was dropped by a scheduler that stopped
RETRY_AFTER = timedelta(minutes=1)  # a failed report is tried again when asked for after this long
FORGOTTEN_AFTER = timedelta(days=7)  # a report nobody asked for this long is removed

KINDS: dict[str, Callable[[dict], str]] = {}


def kind(name: str):
    """Register the function that works out reports of this kind: parameters (a dict) -> content."""

    def register(compute: Callable[[dict], str]) -> Callable[[dict], str]:
        KINDS[name] = compute
        return compute

    return register


@dataclass(frozen=True)
class Answer:
    content: str | None  # the latest result (None: none yet)
    computed_at: datetime | None  # when its figures were read
    waiting: bool  # a result, or a fresher one, is being worked out
    failed: str | None = None  # why the last attempt failed, when it did and nothing is being worked out
    scheduler_running: bool = True  # whether any scheduler process is alive to work it out

    @property
    def stale(self) -> bool:
        return self.content is not None and self.waiting


def _canonical(parameters: dict) -> str:
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def key_of(parameters: dict) -> str:
    return hashlib.sha256(_canonical(parameters).encode()).hexdigest()


def ask(name: str, parameters: dict) -> Answer:
    """The latest result of this report; asks the scheduler for it (or a fresher one) when it is missing
    or older than REPORT_FRESH_SECONDS. Commits the request."""
    if name not in KINDS:
        raise KeyError(name)
    now = utcnow()
    key = key_of(parameters)
    row = _row(name, key)
    fresh_after = now - timedelta(seconds=current_app.config["REPORT_FRESH_SECONDS"])
    if row is not None and row.status == READY and row.computed_at >= fresh_after:
        return Answer(row.content, row.computed_at, waiting=False)
    if row is not None and row.status == FAILED and row.started_at > now - RETRY_AFTER:
        return Answer(row.content, row.computed_at, waiting=False, failed=row.error)
    if row is None:
        row = _insert(name, key, parameters, now)
    elif row.status in (READY, FAILED):
        db.session.execute(
            update(ReportSnapshot)
            .where(ReportSnapshot.id == row.id, ReportSnapshot.status == row.status)
            .values(status=WANTED, requested_at=now)
        )
    db.session.commit()
    return Answer(row.content, row.computed_at, waiting=True, scheduler_running=scheduler_running(now))


def _row(name: str, key: str) -> ReportSnapshot | None:
    return db.session.scalars(
        select(ReportSnapshot).where(ReportSnapshot.kind == name, ReportSnapshot.key == key)
    ).one_or_none()


def _insert(name: str, key: str, parameters: dict, now: datetime) -> ReportSnapshot:
    """A new request; when another worker made the same one a moment before, theirs stands."""
    row = ReportSnapshot(kind=name, key=key, parameters=_canonical(parameters), status=WANTED, requested_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        row = _row(name, key)
    return row


def scheduler_running(now: datetime) -> bool:
    """Whether a scheduler process has beaten recently (it is the one that works reports out)."""
    return any(beat.last_seen >= now - heartbeat.max_age() for beat in heartbeat.beats())


@dataclass
class Worked:
    ready: int = 0
    failed: int = 0
    forgotten: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.ready} reports worked out in {self.seconds:.1f} s, {self.failed} failed, {self.forgotten} forgotten"
        )


def work(limit: int | None = None) -> Worked:
    """Work out the reports asked for, the oldest request first (at most `limit`), each in its own
    transaction; then remove those nobody asked for in a week."""
    done = Worked()
    started = time.perf_counter()
    while limit is None or done.ready + done.failed < limit:
        row = _claim()
        if row is None:
            break
        _work_one(row, done)
    done.forgotten = db.session.execute(
        delete(ReportSnapshot).where(
            ReportSnapshot.requested_at < utcnow() - FORGOTTEN_AFTER, ReportSnapshot.status != WORKING
        )
    ).rowcount
    db.session.commit()
    done.seconds = time.perf_counter() - started
    return done


def _claim() -> ReportSnapshot | None:
    """Take the oldest request (or one a stopped scheduler dropped); another scheduler taking the same
    one at once finds it taken and looks again."""
    now = utcnow()
    waiting = or_(
        ReportSnapshot.status == WANTED,
        (ReportSnapshot.status == WORKING) & (ReportSnapshot.started_at < now - LEASE),
    )
    while True:
        candidate = db.session.scalars(
            select(ReportSnapshot.id).where(waiting).order_by(ReportSnapshot.requested_at, ReportSnapshot.id).limit(1)
        ).first()
        if candidate is None:
            db.session.rollback()
            return None
        taken = db.session.execute(
            update(ReportSnapshot)
            .where(ReportSnapshot.id == candidate, waiting)
            .values(status=WORKING, started_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        if taken:
            return db.session.get(ReportSnapshot, candidate, populate_existing=True)


def _work_one(row: ReportSnapshot, done: Worked) -> None:
    row_id, name, parameters = row.id, row.kind, json.loads(row.parameters)
    read_at = utcnow()
    began = time.perf_counter()
    try:
        content = KINDS[name](parameters)
    except Exception as error:  # the report says it failed (on its page); the next one is worked out
        db.session.rollback()
        log.exception("report %s %s failed", name, row.key)
        db.session.execute(
            update(ReportSnapshot)
            .where(ReportSnapshot.id == row_id)
            .values(status=FAILED, error=f"{type(error).__name__}: {error}"[:500])
        )
        db.session.commit()
        done.failed += 1
        return
    db.session.rollback()  # a report only reads
    db.session.execute(
        update(ReportSnapshot)
        .where(ReportSnapshot.id == row_id)
        .values(content=content, computed_at=read_at, seconds=time.perf_counter() - began, error=None, status=READY)
    )
    db.session.commit()
    done.ready += 1
