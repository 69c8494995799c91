"""The dispatcher: fan the due reminders out a batch at a time, then send each delivery on its own.

A batch of up to BATCH due reminders is fanned out in one transaction: the batch is claimed (row
locks on PostgreSQL, skipping rows another dispatcher holds; the write lock on SQLite), the staff it
reaches are read once, its in-app notices and its deliveries (one per recipient and channel) are
inserted in bulk, and its reminders are marked sent — all or nothing, so a crash there repeats
nothing and loses nothing, and two dispatchers never hand out the same reminder. When anything in a
batch fails, the batch is rolled back and its reminders are fanned out again one at a time, so a
defect in one reminder fails that reminder alone.

A delivery is one message to one address. It is claimed by a committed lease on its own row,
sent, and marked sent in a second commit. A crash between the server's acceptance and that commit
repeats that one message (with the same Message-ID), and no other. A refusing mailbox fails its own
delivery: nobody else's message or notice is touched. One connection per channel serves a pass.
"""

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload

from ticketing.cases.models import Reminder, Ticket
from ticketing.cases.services.escalation import auto_escalate_on_breach, escalate_overdue
from ticketing.cases.services.guarantee import suggest_service_guarantees
from ticketing.cases.vocabulary import ReminderKind, ReminderStatus
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.notify.channels import Sessions
from ticketing.notify.email import DeliveryError
from ticketing.scheduling.delivery import Readers, Staged, fan_out, outgoing, still_needed
from ticketing.scheduling.models import Delivery

# Reminders fanned out per transaction: large enough that a commit (an fsync on SQLite) is shared by
# many, small enough that the write lock a batch holds on SQLite is held for a fraction of a second.
BATCH = 100


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_token(worker: str) -> str:
    """The mark of one pass: the worker plus a random part, so a dispatcher knows its own claims."""
    return f"{worker[:71]}:{uuid.uuid4().hex[:8]}"


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["DISPATCH_LEASE_SECONDS"])


def _moment(now: datetime) -> datetime:
    """A lease runs from the claim, not from the start of a long pass."""
    return max(now, utcnow())


def _claimable(model, now: datetime):
    """Due and waiting, or claimed by a pass that died (its lease ran out)."""
    return or_(
        and_(model.status == ReminderStatus.PENDING, model.run_at <= now),
        and_(model.status == ReminderStatus.SENDING, model.claimed_at < _moment(now) - _lease()),
    )


def _claim(model, now: datetime, token: str, limit: int | None = None, ids: list[int] | None = None) -> list[int]:
    """Mark the next `limit` due rows of `model` (or those of `ids` still due) as ours, in one
    statement: PostgreSQL skips rows another dispatcher holds; SQLite runs one writer at a time.
    Not committed here.

    The due rows are picked once, in a materialized CTE: PostgreSQL may run an IN (subquery) more
    than once in a plan, and each run of a LIMIT … FOR UPDATE SKIP LOCKED can pick other rows, so
    the statement would claim more than `limit`."""
    due = select(model.id).where(_claimable(model, now))
    if ids is not None:
        due = due.where(model.id.in_(ids))
    due = due.order_by(model.run_at, model.id).limit(limit).with_for_update(skip_locked=True).cte("due")
    if db.engine.dialect.name == "postgresql":
        due = due.prefix_with("MATERIALIZED")
    return list(
        db.session.scalars(
            update(model)
            .where(model.id.in_(select(due.c.id)), _claimable(model, now))
            .values(status=ReminderStatus.SENDING, claimed_by=token, claimed_at=_moment(now))
            .returning(model.id)
            .execution_options(synchronize_session=False)
        )
    )


def _claim_one(model, now: datetime, token: str) -> int | None:
    """Mark the next due row of `model` as ours (see _claim). Not committed here."""
    claimed = _claim(model, now, token, limit=1)
    return claimed[0] if claimed else None


@dataclass
class PassResult:
    sent: int = 0  # reminders handed out (their in-app notices and deliveries made)
    mailed: int = 0  # messages accepted by their server
    skipped: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"sent {self.sent}, mailed {self.mailed}, skipped {self.skipped}, cancelled {self.cancelled}, "
            f"retried {self.retried}, failed {self.failed}"
        )


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … at most an hour between tries."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def dispatch_due(now: datetime | None = None, worker: str | None = None) -> PassResult:
    """One pass: hand out every reminder due by `now`, then send every delivery due. Its cost
    follows the number due."""
    now = now or utcnow()
    token = claim_token(worker or worker_name())
    result = PassResult()
    while _fan_out_next(now, token, result):
        pass
    with Sessions() as sessions:
        while _send_next(now, token, sessions, result):
            pass
    return result


def _fan_out_next(now: datetime, token: str, result: PassResult) -> bool:
    """Claim the next batch of due reminders and hand it out in one transaction; False when none is due."""
    reminder_ids = _claim(Reminder, now, token, limit=BATCH)
    if not reminder_ids:
        db.session.rollback()
        return False
    try:
        counts = _hand_out(reminder_ids, now)
        db.session.commit()
    except Exception:  # a defect in one reminder must not stop the others: each goes again on its own
        db.session.rollback()
        for reminder_id in reminder_ids:
            _fan_out_alone(reminder_id, now, token, result)
        return True
    _count(result, counts)
    return True


def _fan_out_alone(reminder_id: int, now: datetime, token: str, result: PassResult) -> None:
    """One reminder in its own transaction, its failure recorded on it (retried later, or failed)."""
    if not _claim(Reminder, now, token, ids=[reminder_id]):
        db.session.rollback()  # handed out or taken by another dispatcher meanwhile
        return
    try:
        counts = _hand_out([reminder_id], now)
        db.session.commit()
    except Exception as error:
        db.session.rollback()  # the claim went with the rest: take it again to record the failure
        if _claim_again(reminder_id, token):
            _retry_or_fail(
                db.session.get(Reminder, reminder_id), token, now, f"{type(error).__name__}: {error}", result
            )
        return
    _count(result, counts)


def _hand_out(reminder_ids: list[int], now: datetime) -> dict[str, list[int]]:
    """Stage the claimed reminders' notices and deliveries, write them in bulk and mark each reminder
    sent, skipped or cancelled. Returns the ids by new status; the caller commits."""
    reminders = list(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.id.in_(reminder_ids))
            .options(selectinload(Reminder.ticket).selectinload(Ticket.customer))
            .order_by(Reminder.run_at, Reminder.id)
        )
    )
    readers, staged = Readers(reminders, now), Staged()
    outcome: dict[str, list[int]] = {ReminderStatus.SENT: [], ReminderStatus.SKIPPED: [], ReminderStatus.CANCELLED: []}
    needed = []
    for reminder in reminders:
        if still_needed(reminder):
            needed.append(reminder)
        else:
            outcome[ReminderStatus.CANCELLED].append(reminder.id)
    breached = [reminder.ticket for reminder in needed if reminder.kind == ReminderKind.RESOLUTION_BREACHED]
    suggest_service_guarantees(breached, now)  # compensate for our slowness, once per case
    if breached and auto_escalate_on_breach():  # the desk's setting: one priority level up, once per case
        for ticket in breached:
            escalate_overdue(ticket, now)
    for reminder in needed:
        outcome[fan_out(reminder, now, readers, staged)].append(reminder.id)
    staged.write()
    for status, ids in outcome.items():
        if not ids:
            continue
        values = {"status": status}
        if status != ReminderStatus.CANCELLED:
            values.update(sent_at=now, attempts=Reminder.attempts + 1)
        db.session.execute(
            update(Reminder).where(Reminder.id.in_(ids)).values(**values).execution_options(synchronize_session=False)
        )
    return outcome


def _count(result: PassResult, counts: dict[str, list[int]]) -> None:
    result.sent += len(counts[ReminderStatus.SENT])
    result.skipped += len(counts[ReminderStatus.SKIPPED])
    result.cancelled += len(counts[ReminderStatus.CANCELLED])


def _claim_again(reminder_id: int, token: str) -> bool:
    claimed = db.session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.SENDING, claimed_by=token, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire_all()
    return bool(claimed)


def _send_next(now: datetime, token: str, sessions: Sessions, result: PassResult) -> bool:
    delivery_id = _claim_one(Delivery, now, token)
    db.session.commit()  # the lease is taken before anything leaves
    if delivery_id is None:
        return False
    delivery = db.session.get(Delivery, delivery_id)
    if not still_needed(delivery.reminder):
        _finish(delivery_id, token, status=ReminderStatus.CANCELLED)
        result.cancelled += 1
        return True
    try:
        sessions.send(delivery.channel, outgoing(delivery, now))
    except DeliveryError as error:
        db.session.rollback()
        _retry_or_fail(db.session.get(Delivery, delivery_id), token, now, str(error), result, error.permanent)
        return True
    except Exception as error:  # the message cannot be made: it fails alone, the pass goes on
        db.session.rollback()
        _retry_or_fail(db.session.get(Delivery, delivery_id), token, now, f"{type(error).__name__}: {error}", result)
        return True
    _finish(delivery_id, token, status=ReminderStatus.SENT, sent_at=utcnow())
    result.mailed += 1
    return True


def _finish(delivery_id: int, token: str, **values) -> None:
    """Record the outcome — only while the claim is ours (the issued link commits with it)."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.claimed_by == token)
        .values(attempts=Delivery.attempts + 1, claimed_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _retry_or_fail(row, token: str, now: datetime, error: str, result: PassResult, permanent: bool = False) -> None:
    """Try again later (or give up at once on a permanent refusal, or after the last attempt) —
    only while the claim is still ours: if it expired, another dispatcher owns the row."""
    if row is None or row.claimed_by != token or row.status != ReminderStatus.SENDING:
        db.session.rollback()
        return
    row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_at = None
    if permanent or row.attempts >= current_app.config["DISPATCH_MAX_ATTEMPTS"]:
        row.status = ReminderStatus.FAILED
        result.failed += 1
    else:
        row.status, row.run_at = ReminderStatus.PENDING, now + backoff(row.attempts)
        result.retried += 1
    result.errors.append(error)
    db.session.commit()


def retry_failed(row, now: datetime) -> None:
    """An admin sends a failed reminder or delivery round again."""
    row.status, row.attempts, row.run_at = ReminderStatus.PENDING, 0, now
    row.claimed_by = row.claimed_at = None
