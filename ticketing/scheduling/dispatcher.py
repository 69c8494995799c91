"""The dispatcher: claim due reminders atomically, deliver them, mark them sent.

Crash safety: a claim is a committed lease. A process killed after claiming leaves the
reminder in "sending"; once the lease expires another pass claims it again. The status
"sent" and the in-app notifications are committed together after the e-mail is accepted,
so only a kill between the SMTP server's acceptance and that commit repeats an e-mail —
with the same Message-ID, so the repeat is recognisable.
"""

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from ticketing.cases.models import Reminder
from ticketing.cases.services.guarantee import suggest_service_guarantee
from ticketing.cases.vocabulary import ReminderStatus
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.notify.email import DeliveryError
from ticketing.scheduling.delivery import deliver, still_needed


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimable(now: datetime):
    lease = timedelta(seconds=current_app.config["DISPATCH_LEASE_SECONDS"])
    return or_(
        and_(Reminder.status == ReminderStatus.PENDING, Reminder.run_at <= now),
        and_(Reminder.status == ReminderStatus.SENDING, Reminder.claimed_at < now - lease),
    )


def claim_token(worker: str) -> str:
    """The mark of one claim: the worker plus a random part, so a dispatcher knows its own claims."""
    return f"{worker[:71]}:{uuid.uuid4().hex[:8]}"


def claim_due(now: datetime, limit: int, worker: str) -> list[int]:
    """Mark up to `limit` due reminders as claimed by `worker` (a claim_token) and commit, so no
    other dispatcher takes them until the lease runs out."""
    claimed_at = max(now, utcnow())  # the lease runs from the claim, not from the start of a long pass
    if db.engine.dialect.name == "postgresql":
        ids = list(
            db.session.scalars(
                select(Reminder.id)
                .where(_claimable(now))
                .order_by(Reminder.run_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            db.session.execute(
                update(Reminder)
                .where(Reminder.id.in_(ids))
                .values(status=ReminderStatus.SENDING, claimed_by=worker, claimed_at=claimed_at)
            )
    else:
        # SQLite has one writer at a time: a conditional UPDATE claims atomically.
        chosen = select(Reminder.id).where(_claimable(now)).order_by(Reminder.run_at).limit(limit)
        db.session.execute(
            update(Reminder)
            .where(Reminder.id.in_(chosen), _claimable(now))
            .values(status=ReminderStatus.SENDING, claimed_by=worker, claimed_at=claimed_at)
            .execution_options(synchronize_session=False)
        )
        ids = list(
            db.session.scalars(
                select(Reminder.id).where(Reminder.claimed_by == worker, Reminder.status == ReminderStatus.SENDING)
            )
        )
    db.session.commit()
    return ids


def _still_ours(reminder: Reminder, token: str) -> bool:
    """Claimed by us and within the lease: after it, another dispatcher may have taken the reminder."""
    lease = timedelta(seconds=current_app.config["DISPATCH_LEASE_SECONDS"])
    return (
        reminder.status == ReminderStatus.SENDING
        and reminder.claimed_by == token
        and reminder.claimed_at >= utcnow() - lease
    )


@dataclass
class PassResult:
    sent: int = 0
    skipped: int = 0
    cancelled: int = 0
    retried: int = 0
    failed: int = 0
    errors: list = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"sent {self.sent}, skipped {self.skipped}, cancelled {self.cancelled}, "
            f"retried {self.retried}, failed {self.failed}"
        )


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, 4 min … at most an hour between tries."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def dispatch_due(now: datetime | None = None, worker: str | None = None) -> PassResult:
    """One pass: deliver every reminder due by `now`. Its cost follows the number due."""
    now = now or utcnow()
    worker = worker or worker_name()
    result = PassResult()
    batch = current_app.config["DISPATCH_BATCH"]
    while True:
        token = claim_token(worker)
        ids = claim_due(now, batch, token)
        for reminder_id in ids:
            _dispatch_one(reminder_id, token, now, result)
        if len(ids) < batch:
            return result


def _dispatch_one(reminder_id: int, token: str, now: datetime, result: PassResult) -> None:
    reminder = db.session.get(Reminder, reminder_id)
    if reminder is None or not _still_ours(reminder, token):
        return
    if not still_needed(reminder):
        reminder.status = ReminderStatus.CANCELLED
        db.session.commit()
        result.cancelled += 1
        return
    if reminder.kind == "resolution_breached":
        # Compensate for our slowness whether or not the e-mail gets through (once per case).
        suggest_service_guarantee(reminder.ticket, now)
        db.session.commit()
    try:
        outcome = deliver(reminder, now)
    except DeliveryError as error:
        db.session.rollback()
        _retry_or_fail(reminder_id, token, now, str(error), result)
        return
    except Exception as error:  # e.g. a header refused by build_message: this reminder fails, the pass goes on
        db.session.rollback()
        _retry_or_fail(reminder_id, token, now, f"{type(error).__name__}: {error}", result)
        return
    reminder.status, reminder.sent_at, reminder.attempts = outcome, now, reminder.attempts + 1
    db.session.commit()
    if outcome == ReminderStatus.SENT:
        result.sent += 1
    else:
        result.skipped += 1


def _retry_or_fail(reminder_id: int, token: str, now: datetime, error: str, result: PassResult) -> None:
    """Schedule another try (or give up) — only while the claim is still ours: if it expired
    meanwhile, another dispatcher owns the reminder and may already have sent it."""
    reminder = db.session.get(Reminder, reminder_id)
    if reminder is None or not _still_ours(reminder, token):
        db.session.rollback()
        return
    reminder.attempts += 1
    reminder.last_error = error[:2000]
    reminder.claimed_by = reminder.claimed_at = None
    if reminder.attempts >= current_app.config["DISPATCH_MAX_ATTEMPTS"]:
        reminder.status = ReminderStatus.FAILED
        result.failed += 1
    else:
        reminder.status, reminder.run_at = ReminderStatus.PENDING, now + backoff(reminder.attempts)
        result.retried += 1
    result.errors.append(error)
    db.session.commit()


def retry_failed(reminder: Reminder, now: datetime) -> None:
    """An admin sends a failed reminder round again."""
    reminder.status, reminder.attempts, reminder.run_at = ReminderStatus.PENDING, 0, now
    reminder.claimed_by = reminder.claimed_at = None
