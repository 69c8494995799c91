"""Lean storage: reminder rows past the desk's retention period are removed, a short batch at a time.

Which rows may go is the domain's rule (reminders.past_retention: nothing can ask for their keys
again). What they leave behind stays whole:

- An in-app notice keeps its reader, case, kind, text (its details) and times; only its link to the
  removed row is cleared (notifications.reminder_id is NULL), so the bell reads as before.
- A reminder that any delivery (a message to an address) belongs to is kept with its deliveries:
  together they say what a customer or a colleague was sent, when, to which address, with which
  Message-ID — evidence, and the delivery alone would not say what it was about.
- The record log is not touched: no case's history is in these rows.

Each batch is one short transaction (a few thousand rows), so the desk and the dispatcher wait at most
that long for the write lock on SQLite, and on PostgreSQL the rows are locked only while they go.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, tuple_, update

from ticketing.cases.models import Reminder
from ticketing.cases.reminders import past_retention
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import ReminderStatus
from ticketing.extensions import db
from ticketing.notify.models import Notification
from ticketing.scheduling.models import Delivery

BATCH = 2_000


@dataclass
class Removed:
    reminders: int = 0  # rows removed
    notices_unlinked: int = 0  # in-app notices kept whole, their link to a removed row cleared
    batches: int = 0


def removable(cutoff: datetime):
    delivered = exists(select(Delivery.id).where(Delivery.reminder_id == Reminder.id))
    return past_retention(cutoff) & ~delivered


def remove_old_reminders(now: datetime, days: int | None = None, batch: int = BATCH) -> Removed:
    """Remove the reminder rows older than `days` (the desk's setting) that nothing needs any more,
    committing after each batch; returns what was done.

    Each status's rows are walked once in the order of the (status, run_at) index, from where the
    last batch stopped: a row kept (an escalation, an open case's reminder) is read once a run, not
    again by every batch after it."""
    days = desk().reminder_retention_days if days is None else days
    cutoff = now - timedelta(days=days)
    removed = Removed()
    for status in (ReminderStatus.CANCELLED, ReminderStatus.SKIPPED, ReminderStatus.SENT):
        after = None  # (run_at, id) of the last row looked at
        while True:
            query = select(Reminder.id, Reminder.run_at).where(
                Reminder.status == status, Reminder.run_at < cutoff, removable(cutoff)
            )
            if after is not None:
                query = query.where(tuple_(Reminder.run_at, Reminder.id) > tuple_(*after))
            rows = db.session.execute(query.order_by(Reminder.run_at, Reminder.id).limit(batch)).all()
            if not rows:
                db.session.rollback()
                break
            after = (rows[-1].run_at, rows[-1].id)
            removed.reminders += _remove([row.id for row in rows], cutoff, removed)
            removed.batches += 1
            if len(rows) < batch:
                break
    return removed


def _remove(candidates: list[int], cutoff: datetime, removed: Removed) -> int:
    """One batch, in one short transaction: the notices unlinked, then the rows removed."""
    # PostgreSQL: lock the batch's rows (skipping any another transaction holds) until they are gone.
    ids = list(
        db.session.scalars(
            select(Reminder.id).where(Reminder.id.in_(candidates), removable(cutoff)).with_for_update(skip_locked=True)
        )
    )
    if not ids:  # all held by other transactions, or needed again meanwhile: the next run sees them
        db.session.rollback()
        return 0
    # The first write takes SQLite's write lock; the rows are checked again under it.
    still = select(Reminder.id).where(Reminder.id.in_(ids), removable(cutoff))
    removed.notices_unlinked += db.session.execute(
        update(Notification)
        .where(Notification.reminder_id.in_(still))
        .values(reminder_id=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    gone = db.session.execute(
        delete(Reminder).where(Reminder.id.in_(ids), removable(cutoff)).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return gone


def refresh_statistics() -> bool:
    """SQLite: gather the query planner's statistics again (ANALYZE, sampling at most 1,000 rows of each
    index, seconds even at a million cases). Without them SQLite may pick the wrong index: a case's
    latest proposal was found through the index of every event's action, walking the whole log (10 s
    at 1M cases); with them, through the case's own events. PostgreSQL's autovacuum keeps its own, so
    nothing is done there. Returns whether statistics were gathered."""
    if db.engine.dialect.name != "sqlite":
        return False
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA analysis_limit=1000")
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return True
