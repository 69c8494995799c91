"""Closing the loop from complaint to fix: preventive actions tracked to done and verified,
and quality scores of sampled closed cases."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.auth.models import User
from ticketing.cases import reminders, workflow
from ticketing.cases.checklist import score
from ticketing.cases.models import Ticket
from ticketing.cases.records import AnalysisRecord
from ticketing.cases.services.base import Change
from ticketing.cases.vocabulary import PreventiveState, ReminderKind, RootCause, Status
from ticketing.clock import as_utc, utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime, enum_type


class PreventiveAction(db.Model):
    """A fix for the cause behind a complaint (举一反三): owned, due, done, then verified."""

    __tablename__ = "preventive_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    root_cause: Mapped[RootCause | None] = mapped_column(enum_type(RootCause), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=PreventiveState.OPEN, index=True)
    done_note: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])


class QualityScore(db.Model):
    """A supervisor's checklist score of one sampled closed case, kept per agent."""

    __tablename__ = "quality_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    sample: Mapped[str] = mapped_column(String(32), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    checklist: Mapped[dict | None] = mapped_column(JSON)
    score: Mapped[int | None] = mapped_column(Integer)  # None until scored
    comment: Mapped[str | None] = mapped_column(Text)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    ticket: Mapped[Ticket] = relationship()
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id])


def _latest_cause(ticket) -> RootCause | None:
    return db.session.scalar(
        select(AnalysisRecord.root_cause)
        .where(AnalysisRecord.ticket_id == ticket.id)
        .order_by(AnalysisRecord.id.desc())
        .limit(1)
    )


def add_preventive_action(ticket, actor, *, description: str, owner: User, due_date: date) -> PreventiveAction:
    """Record a fix for the cause of this complaint; the owner is reminded on the due date."""
    change = Change(ticket, actor, "add_preventive_action")
    action = PreventiveAction(
        ticket_id=ticket.id,
        root_cause=_latest_cause(ticket),
        description=description,
        owner_id=owner.id,
        due_date=due_date,
        created_by_id=actor.id,
        created_at=change.now,
    )
    db.session.add(action)
    db.session.flush()
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    reminders.schedule(
        _reminder_key(action),
        ReminderKind.PREVENTIVE_ACTION_DUE,
        ticket_id=ticket.id,
        user_id=owner.id,
        audience="user",
        due_at=as_utc(datetime.combine(due_date, time(9), zone)),
        now=change.now,
    )
    change.log(preventive_action=description, owner=owner.email, due_date=due_date)
    change.done()
    return action


def complete_preventive_action(action: PreventiveAction, actor, *, note: str) -> None:
    """The owner (or a supervisor) reports the fix done; its reminder is no longer needed."""
    change = Change(action.ticket, actor, "complete_preventive_action", {"preventive_action": action})
    action.status, action.done_at, action.done_note = PreventiveState.DONE, change.now, note
    reminders.cancel(_reminder_key(action))
    change.log(preventive_action=action.description, note=note)
    change.done()


def verify_preventive_action(action: PreventiveAction, actor) -> None:
    """A supervisor checks the fix really works: the loop is closed."""
    change = Change(action.ticket, actor, "verify_preventive_action", {"preventive_action": action})
    action.status, action.verified_by_id, action.verified_at = PreventiveState.VERIFIED, actor.id, change.now
    change.log(preventive_action=action.description)
    change.done()


# A preventive action's verbs on the lessons page, and the workflow action each one is.
VERBS = {"done": "complete_preventive_action", "verify": "verify_preventive_action"}


def allowed_verbs(action: PreventiveAction, actor) -> set[str]:
    """What `actor` may do to `action` now, by the workflow's rules (the page offers only these)."""
    return {
        verb
        for verb, name in VERBS.items()
        if workflow.refusal(name, workflow.Context(action.ticket, actor, {"preventive_action": action})) is None
    }


def _reminder_key(action: PreventiveAction) -> str:
    return f"preventive_action_due:{action.id}"


@dataclass(frozen=True)
class Drawn:
    """What a draw gave: the sample's id, how many cases it drew of how many asked, and how many cases
    matching the filters were left out because they already wait to be scored."""

    sample: str
    drawn: int
    asked: int
    waiting: int


def draw_sample(
    actor, *, size: int, since: datetime | None, until: datetime | None, agent_id: int | None, category: str | None
) -> Drawn:
    """A random sample of closed cases for quality scoring, never one already waiting to be scored."""
    query = select(Ticket.id, Ticket.assignee_id).where(Ticket.status == Status.CLOSED)
    if since:
        query = query.where(Ticket.closed_at >= since)
    if until:
        query = query.where(Ticket.closed_at < until)
    if agent_id:
        query = query.where(Ticket.assignee_id == agent_id)
    if category:
        query = query.where(Ticket.category == category)
    waiting_ids = select(QualityScore.ticket_id).where(QualityScore.score.is_(None))
    waiting = db.session.scalar(select(func.count()).select_from(query.where(Ticket.id.in_(waiting_ids)).subquery()))
    sample, now = uuid.uuid4().hex, utcnow()
    drawn = db.session.execute(query.where(Ticket.id.not_in(waiting_ids)).order_by(func.random()).limit(size)).all()
    for ticket_id, assignee_id in drawn:
        db.session.add(
            QualityScore(sample=sample, ticket_id=ticket_id, agent_id=assignee_id, reviewer_id=actor.id, drawn_at=now)
        )
    return Drawn(sample=sample, drawn=len(drawn), asked=size, waiting=waiting)


def score_case(row: QualityScore, actor, *, checklist: dict, comment: str) -> None:
    row.checklist, row.score, row.comment = checklist, score(checklist), comment or None
    row.reviewer_id, row.scored_at = actor.id, utcnow()


def agent_quality() -> list:
    """Per agent: scored cases and average score."""
    return db.session.execute(
        select(User, func.count(QualityScore.id), func.avg(QualityScore.score))
        .join(QualityScore, QualityScore.agent_id == User.id)
        .where(QualityScore.score.is_not(None))
        .group_by(User.id)
        .order_by(func.avg(QualityScore.score).desc())
    ).all()
