"""Verification checkpoints: how far the whole record log was last found intact, so the daily check
need not read history again.

A full `audit verify` that finds nothing wrong records, before it starts reading, the log's end: the
last event (its id, case, number and seal), how many events there were up to it, the last case and
the last row of every sealed table. `verify_since()` then checks only what came after: the head the
checkpoint saw is still there with the same seal and no event up to it has gone (so a truncated or
rewritten tail is noticed), and every case that has an event, a sealed record or its own row after
the checkpoint is checked whole (its chain, its seals, its records). What it cannot see is a change,
in place, to an older event or record of a case untouched since: the full check (and the anchors)
cover that.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

from flask import current_app
from sqlalchemy import JSON, Integer, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.cases import chain
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.types import UTCDateTime


class VerifyCheckpoint(db.Model):
    """One intact check of the record log (full or since the previous checkpoint), and the log's end it saw."""

    __tablename__ = "verify_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scope: Mapped[str] = mapped_column(String(8))  # "full" or "since" (the previous checkpoint)
    checked: Mapped[int] = mapped_column(Integer)  # events this check read
    # The log's end when the check began: every event up to it was found intact.
    through_event_id: Mapped[int | None] = mapped_column(Integer)  # None: the log was empty
    events: Mapped[int] = mapped_column(Integer)  # how many events there were up to it
    head_ticket_id: Mapped[int | None] = mapped_column(Integer)
    head_seq: Mapped[int | None] = mapped_column(Integer)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    last_ticket_id: Mapped[int] = mapped_column(Integer)
    record_ids: Mapped[dict] = mapped_column(JSON)  # {sealed table: its last row id}


@dataclass
class LogEnd:
    """Where the log ended when a check began (what a checkpoint keeps)."""

    through_event_id: int | None
    events: int
    head: tuple | None  # (ticket id, seq, hash) of the event through_event_id
    last_ticket_id: int
    record_ids: dict


@dataclass
class Outcome:
    checked: int  # events read
    cases: int  # cases checked
    broken: chain.Break | None
    scope: str  # "full" or "since"
    since: VerifyCheckpoint | None  # the checkpoint a daily check started from


HEAD_GONE = _l(
    "event #%(seq)d, the last one the check of %(date)s found intact, is gone (deleted, or an older backup restored)"
)
HEAD_REWRITTEN = _l("event #%(seq)d is not the one the check of %(date)s found intact (history rewritten)")
EVENTS_GONE = _l(
    "%(count)d of the events the check of %(date)s found intact are gone (deleted behind the application's back)"
)


def log_end() -> LogEnd:
    events = Event.__table__
    through = db.session.scalar(select(func.max(events.c.id)))
    head = None
    if through is not None:
        head = tuple(
            db.session.execute(
                select(events.c.ticket_id, events.c.seq, events.c.hash).where(events.c.id == through)
            ).one()
        )
    return LogEnd(
        through_event_id=through,
        events=_events_up_to(through),
        head=head,
        last_ticket_id=db.session.scalar(select(func.max(Ticket.__table__.c.id))) or 0,
        record_ids={
            name: db.session.scalar(select(func.max(sealed.model.__table__.c.id))) or 0
            for name, sealed in sorted(chain.SEALED.items())
        },
    )


def latest() -> VerifyCheckpoint | None:
    return db.session.scalars(select(VerifyCheckpoint).order_by(VerifyCheckpoint.id.desc()).limit(1)).first()


def verify_log(now: datetime, since_last: bool = False, jobs: int = 1) -> Outcome:
    """Verify the record log — the whole of it, or (`since_last`) what came after the latest
    checkpoint, falling back to the whole when there is none — and, when intact, add a checkpoint
    at the log's end as this check began. The whole log is read by `jobs` processes side by side
    (each a share of the cases) where the database can be opened by more than one. The caller commits."""
    end = log_end()
    since = latest() if since_last else None
    if since is not None and _events_up_to(since.through_event_id) > since.events:
        since = None  # events below its head committed after it was taken (PostgreSQL ids): check all
    if since is None:
        checked, cases, broken = _verify_all_in(jobs) if jobs > 1 and _shared() else _verify_all()
    else:
        checked, cases, broken = verify_since(since)
    scope = "full" if since is None else "since"
    if broken is None:
        db.session.add(_checkpoint(end, now, scope, checked))
    return Outcome(checked, cases, broken, scope, since)


def _verify_all() -> tuple[int, int, chain.Break | None]:
    checked = cases = 0
    for count, problem in chain.check_all(Event, 1000):
        checked, cases = checked + count, cases + 1
        if problem is not None:
            return checked, cases, problem
    return checked, cases, None


def _shared() -> bool:
    """Whether other processes can open this database (anything but SQLite in memory)."""
    url = db.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


_RANGE = 1000  # case ids a process takes at a time: one batch of chain.check_all
_APP = None  # the application the verifying processes inherit (forked)


def _verify_all_in(jobs: int) -> tuple[int, int, chain.Break | None]:
    """_verify_all() by `jobs` forked processes, each taking the next range of case ids as it is
    done with one (ranges of one batch, 1,000 cases, or 16 a process when there are fewer cases, so
    that the processes finish close together); the first problem is that of the lowest case, as one
    process would find it."""
    global _APP
    top = db.session.scalar(select(func.max(Ticket.__table__.c.id))) or 0
    if not top:
        return 0, 0, None
    step = min(_RANGE, -(-top // (jobs * 16)))
    ranges = [(low, min(low + step, top)) for low in range(0, top, step)]
    _APP = current_app._get_current_object()
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"), initializer=_start_process) as pool:
        results = list(pool.map(_check_range, ranges))
    checked = cases = 0
    for count, case_count, problem in results:  # in id order
        checked, cases = checked + count, cases + case_count
        if problem is not None:
            return checked, cases, problem
    return checked, cases, None


def _start_process() -> None:
    _APP.app_context().push()
    db.engine.dispose(close=False)  # the connections are the parent's: this process opens its own


def _check_range(bounds: tuple[int, int]) -> tuple[int, int, chain.Break | None]:
    """(events, cases, the first problem) for the cases with an id in (after, through]."""
    after, through = bounds
    checked = cases = 0
    for count, problem in chain.check_all(Event, 1000, after=after, through=through):
        checked, cases = checked + count, cases + 1
        if problem is not None:  # its words as this process has them: a lazy text cannot cross
            return checked, cases, replace(problem, problem=str(problem.problem))
    db.session.rollback()
    return checked, cases, None


def verify_since(checkpoint: VerifyCheckpoint, batch: int = 1000) -> tuple[int, int, chain.Break | None]:
    """(events read, cases checked, the first problem or None) for what came after `checkpoint`."""
    broken = _tail_problem(checkpoint)
    if broken is not None:
        return 0, 0, broken
    ticket_ids = sorted(_cases_after(checkpoint))
    checked = 0
    for start in range(0, len(ticket_ids), batch):
        for count, problem in chain.check_cases(Event, ticket_ids[start : start + batch]):
            checked += count
            if problem is not None:
                return checked, start + batch, problem
    return checked, len(ticket_ids), None


def _tail_problem(checkpoint: VerifyCheckpoint) -> chain.Break | None:
    if checkpoint.through_event_id is None:
        return None
    events = Event.__table__
    day = checkpoint.verified_at.date().isoformat()
    found = db.session.execute(
        select(events.c.ticket_id, events.c.seq, events.c.hash).where(events.c.id == checkpoint.through_event_id)
    ).first()
    head = (checkpoint.head_ticket_id, checkpoint.head_seq, checkpoint.head_hash)
    if found is None:
        return chain.Break(None, head[0], head[1], HEAD_GONE % dict(seq=head[1], date=day))
    if tuple(found) != head:
        return chain.Break(checkpoint.through_event_id, head[0], head[1], HEAD_REWRITTEN % dict(seq=head[1], date=day))
    missing = checkpoint.events - _events_up_to(checkpoint.through_event_id)
    if missing > 0:
        return chain.Break(None, None, None, EVENTS_GONE % dict(count=missing, date=day))
    return None


def _cases_after(checkpoint: VerifyCheckpoint) -> set[int]:
    """Every case with an event, a sealed record or its own row added after `checkpoint`."""
    events, tickets = Event.__table__, Ticket.__table__
    cases = set(
        db.session.scalars(
            select(events.c.ticket_id).distinct().where(events.c.id > (checkpoint.through_event_id or 0))
        )
    )
    cases.update(db.session.scalars(select(tickets.c.id).where(tickets.c.id > checkpoint.last_ticket_id)))
    for name, sealed in chain.SEALED.items():
        table = sealed.model.__table__
        after = table.c.id > (checkpoint.record_ids or {}).get(name, 0)
        if sealed.parent is None:
            cases.update(db.session.scalars(select(table.c.ticket_id).distinct().where(after)))
        else:
            parent_model, column = sealed.parent
            parent = parent_model.__table__
            query = select(parent.c.ticket_id).distinct().join(parent, table.c[column] == parent.c.id).where(after)
            cases.update(db.session.scalars(query))
    return cases


def _events_up_to(event_id: int | None) -> int:
    """How many events have an id up to `event_id`: all of them less those after it, since counting
    every row reads the narrowest index, where counting an id range reads the table's rows (SQLite)."""
    if event_id is None:
        return 0
    events = Event.__table__
    total = db.session.scalar(select(func.count()).select_from(events))
    return total - db.session.scalar(select(func.count()).select_from(events).where(events.c.id > event_id))


def _checkpoint(end: LogEnd, now: datetime, scope: str, checked: int) -> VerifyCheckpoint:
    head = end.head or (None, None, None)
    return VerifyCheckpoint(
        verified_at=now,
        scope=scope,
        checked=checked,
        through_event_id=end.through_event_id,
        events=end.events,
        head_ticket_id=head[0],
        head_seq=head[1],
        head_hash=head[2],
        last_ticket_id=end.last_ticket_id,
        record_ids=end.record_ids,
    )
