"""Read-only queries of the review pages."""

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ticketing.cases.improvement import PreventiveAction, QualityScore
from ticketing.cases.models import Ticket
from ticketing.cases.records import AnalysisRecord, ReviewRecord
from ticketing.cases.vocabulary import ResolutionState, Status, Step
from ticketing.extensions import db


def waiting_for_review() -> list[Ticket]:
    """Cases whose summary is recorded and wait for a supervisor, oldest first."""
    return list(
        db.session.scalars(
            select(Ticket)
            .options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
            .where(Ticket.status == Status.OPEN, Ticket.step == Step.REVIEW, Ticket.review_recorded_at.is_not(None))
            .order_by(Ticket.review_recorded_at)
        ).unique()
    )


def waiting_for_approval() -> list[Ticket]:
    """Proposals whose compensation is above the proposer's limit, oldest first."""
    return list(
        db.session.scalars(
            select(Ticket)
            .options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
            .where(Ticket.status == Status.OPEN, Ticket.resolution_state == ResolutionState.AWAITING_APPROVAL)
            .order_by(Ticket.updated_at)
        ).unique()
    )


def lessons(query: str, cause: str | None, limit: int = 100) -> list:
    """Reviews whose summary, lesson or preventive action mention `query`, with the case's root cause."""
    latest_cause = (
        select(AnalysisRecord.root_cause)
        .where(AnalysisRecord.ticket_id == ReviewRecord.ticket_id)
        .order_by(AnalysisRecord.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt = (
        select(ReviewRecord, Ticket, latest_cause.label("cause"))
        .join(Ticket, Ticket.id == ReviewRecord.ticket_id)
        .order_by(ReviewRecord.id.desc())
        .limit(limit)
    )
    if query:
        pattern = f"%{query.strip()}%"
        stmt = stmt.where(
            or_(
                ReviewRecord.lesson.ilike(pattern),
                ReviewRecord.summary.ilike(pattern),
                ReviewRecord.preventive_action.ilike(pattern),
            )
        )
    if cause:
        stmt = stmt.where(latest_cause == cause)
    return db.session.execute(stmt).all()


def preventive_actions(status: str | None, cause: str | None) -> list[PreventiveAction]:
    stmt = select(PreventiveAction).options(joinedload(PreventiveAction.ticket), joinedload(PreventiveAction.owner))
    if status:
        stmt = stmt.where(PreventiveAction.status == status)
    if cause:
        stmt = stmt.where(PreventiveAction.root_cause == cause)
    return list(db.session.scalars(stmt.order_by(PreventiveAction.due_date)).unique())


def unscored_samples() -> list[QualityScore]:
    return list(
        db.session.scalars(
            select(QualityScore)
            .options(joinedload(QualityScore.ticket))
            .where(QualityScore.score.is_(None))
            .order_by(QualityScore.drawn_at)
        ).unique()
    )
