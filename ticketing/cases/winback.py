"""Win-back actions: a supervisor asks a staff member to win a customer at risk back by a date.

Each open action keeps one reminder row (kind `win_back_due`) for its owner, so the scheduler
reminds them on the due date like any other reminder. The services stage changes and never commit.
"""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, exists, select
from sqlalchemy.orm import Mapped, aliased, joinedload, mapped_column, relationship

from ticketing.auth.models import User
from ticketing.cases import reminders
from ticketing.cases.calendar import desk_today
from ticketing.cases.models import Customer, Ticket
from ticketing.cases.records import FollowUpRecord
from ticketing.cases.vocabulary import ChurnType, ReminderKind, Retention, WinBackState, label_for
from ticketing.cases.workflow import LEAVING, WorkflowError
from ticketing.clock import as_utc, utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.types import UTCDateTime, enum_type

OPEN, DONE, CANCELLED = WinBackState.OPEN, WinBackState.DONE, WinBackState.CANCELLED
REMINDER_KIND = ReminderKind.WIN_BACK_DUE
# Seed 003: a fraudulent customer (low credit, deliberate fraud) is no customer to retain.
FRAUDULENT_REFUSAL = _l(
    "The follow-up judged this customer fraudulent: there is no need to retain them, so no win-back is started."
)


class WinBackAction(db.Model):
    """Who will win this customer back, how, and by when; then what came of it."""

    __tablename__ = "win_back_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    plan: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=OPEN, index=True)  # open | done | cancelled
    # The risk score and its reasons (keys) when the action was started: why we acted.
    risk_score: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[list | None] = mapped_column(JSON)
    outcome: Mapped[Retention | None] = mapped_column(enum_type(Retention))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    customer: Mapped[Customer] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    @property
    def status_label(self):
        return label_for(WinBackState, self.status)


def reminder_key(action: WinBackAction) -> str:
    return f"{REMINDER_KIND}:{action.id}"


def _today() -> date:
    return desk_today(utcnow(), current_app.config)


def latest_follow_up():
    """The follow-up is its case's latest, its current judgement of the customer: none later on the
    case (a condition, looked up on the ticket_id index for the cases at hand only)."""
    later = aliased(FollowUpRecord)
    return ~exists().where(later.ticket_id == FollowUpRecord.ticket_id, later.id > FollowUpRecord.id)


def churn_judgements(customer_ids: list[int]) -> dict[int, FollowUpRecord]:
    """Per customer, the follow-up that judges them lost or at risk now (the latest of one of their cases):
    a fraudulent judgement if any (it keeps them off win-back), else the latest."""
    if not customer_ids:
        return {}
    rows = db.session.execute(
        select(Ticket.customer_id, FollowUpRecord)
        .join(Ticket, Ticket.id == FollowUpRecord.ticket_id)
        .where(
            Ticket.customer_id.in_(customer_ids),
            Ticket.merged_into_id.is_(None),
            latest_follow_up(),
            FollowUpRecord.retention.in_(LEAVING),
        )
        .order_by(FollowUpRecord.id)
    )
    found: dict[int, FollowUpRecord] = {}
    for customer_id, record in rows:
        if barred_reason(found.get(customer_id)) is None:
            found[customer_id] = record
    return found


def barred_reason(judgement: FollowUpRecord | None):
    """Why no win-back may be started on this judgement (a fraudulent customer), or None."""
    if judgement is not None and judgement.churn_type == ChurnType.FRAUDULENT:
        return FRAUDULENT_REFUSAL
    return None


def open_action_for(customer_id: int) -> WinBackAction | None:
    return db.session.scalar(
        select(WinBackAction).where(WinBackAction.customer_id == customer_id, WinBackAction.status == OPEN).limit(1)
    )


def list_actions(status: str, owner_id: int | None = None, limit: int = 200) -> list[WinBackAction]:
    """Actions in one status (open ones soonest due first, closed ones latest first), optionally one owner's."""
    query = select(WinBackAction).options(joinedload(WinBackAction.customer), joinedload(WinBackAction.owner))
    query = query.where(WinBackAction.status == status)
    if owner_id is not None:
        query = query.where(WinBackAction.owner_id == owner_id)
    order = (
        (WinBackAction.due_date, WinBackAction.id)
        if status == OPEN
        else (WinBackAction.closed_at.desc(), WinBackAction.id.desc())
    )
    return list(db.session.scalars(query.order_by(*order).limit(limit)))


def start_win_back(
    customer: Customer,
    actor: User,
    *,
    owner: User,
    due_date: date,
    plan: str,
    risk_score: int | None = None,
    reasons: list[str] | None = None,
) -> WinBackAction:
    """A supervisor starts winning a customer back: one open action per customer, owned by an
    active staff member, due today or later; the owner is reminded on the due date. A customer a
    follow-up judged fraudulent is not won back."""
    if not actor.is_supervisor:
        raise WorkflowError(_l("Only a supervisor can do this."))
    barred = barred_reason(churn_judgements([customer.id]).get(customer.id))
    if barred is not None:
        raise WorkflowError(barred)
    if not owner.active:
        raise WorkflowError(_l("The owner must be an active staff member."))
    if due_date < _today():
        raise WorkflowError(_l("The due date is in the past."))
    if not (plan or "").strip():
        raise WorkflowError(_l("Say how the customer will be won back."))
    if open_action_for(customer.id) is not None:
        raise WorkflowError(_l("This customer already has an open win-back action."))
    now = utcnow()
    action = WinBackAction(
        customer_id=customer.id,
        owner_id=owner.id,
        due_date=due_date,
        plan=plan.strip(),
        status=OPEN,
        risk_score=risk_score,
        reasons=list(reasons or []),
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    action.customer, action.owner = customer, owner
    db.session.add(action)
    db.session.flush()
    sync_win_back_reminder(action, now)
    return action


def complete_win_back(action: WinBackAction, actor: User, *, outcome: str, note: str) -> None:
    """The owner (or a supervisor) reports what came of it; the reminder is no longer needed."""
    _check_open(action)
    if actor.id != action.owner_id and not actor.is_supervisor:
        raise WorkflowError(_l("Only the owner or a supervisor can do this."))
    if outcome not in {r.value for r in Retention}:
        raise WorkflowError(_l("Choose what came of it."))
    if not (note or "").strip():
        raise WorkflowError(_l("Say what was done."))
    _close(action, actor, DONE, note.strip())
    action.outcome = Retention(outcome)


def cancel_win_back(action: WinBackAction, actor: User, *, reason: str) -> None:
    """A supervisor calls an action off (with a reason); the reminder is cancelled."""
    _check_open(action)
    if not actor.is_supervisor:
        raise WorkflowError(_l("Only a supervisor can do this."))
    if not (reason or "").strip():
        raise WorkflowError(_l("Give a reason."))
    _close(action, actor, CANCELLED, reason.strip())


def _check_open(action: WinBackAction) -> None:
    if action.status != OPEN:
        raise WorkflowError(_l("This win-back action is already closed."))


def _close(action: WinBackAction, actor: User, status: str, note: str) -> None:
    now = utcnow()
    action.status, action.outcome_note = status, note
    action.closed_by_id, action.closed_at, action.updated_at = actor.id, now, now
    sync_win_back_reminder(action, now)


def sync_win_back_reminder(action: WinBackAction, now: datetime) -> None:
    """An open action has one pending reminder for its owner at 09:00 local on the due date;
    a closed one has none. Never commits."""
    key = reminder_key(action)
    if action.status != OPEN:
        reminders.cancel(key)
        return
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    due_at = as_utc(datetime.combine(action.due_date, time(9), zone))
    details = {"customer": action.customer.name, "subject": action.plan[:200], "due_date": action.due_date.isoformat()}
    reminders.schedule(
        key, REMINDER_KIND, user_id=action.owner_id, audience="user", due_at=due_at, now=now, details=details
    )
