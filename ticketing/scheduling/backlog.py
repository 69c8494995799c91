"""What the dispatcher has still to do: reminders and messages by status, how many are due, and how
long the oldest due one has waited (the dispatch lag). Read by /readyz and /metrics."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ticketing.cases.models import Reminder
from ticketing.cases.vocabulary import ReminderStatus
from ticketing.extensions import db
from ticketing.scheduling.models import Delivery


@dataclass(frozen=True)
class Backlog:
    reminders: dict[str, int]  # status -> count
    messages: dict[str, int]  # deliveries, status -> count
    due: int  # reminders and messages pending with their time come
    lag_seconds: float  # how long the oldest of them has waited; 0 when none waits


def backlog(now: datetime) -> Backlog:
    due, oldest = 0, None
    for model in (Reminder, Delivery):
        count, first = db.session.execute(
            select(func.count(model.id), func.min(model.run_at)).where(
                model.status == ReminderStatus.PENDING, model.run_at <= now
            )
        ).one()
        due += count
        oldest = first if oldest is None or (first is not None and first < oldest) else oldest
    return Backlog(
        reminders=_by_status(Reminder),
        messages=_by_status(Delivery),
        due=due,
        lag_seconds=(now - oldest).total_seconds() if oldest is not None else 0.0,
    )


def _by_status(model) -> dict[str, int]:
    counts = dict(db.session.execute(select(model.status, func.count(model.id)).group_by(model.status)).all())
    return {str(status): counts.get(status, 0) for status in ReminderStatus}
