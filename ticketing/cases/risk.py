"""Customers at risk of leaving: an explainable score made of weighted reasons (the insight pages
list them, the desk shows one customer's on their record).

Who is considered: every customer with an open case, or a case opened or closed in the last
90 days (merged duplicates left out). Each reason below adds its points once; the score is
their sum, and the list is ranked by score, then by the latest case. Everything is counted in
the database, one aggregate row per customer.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, or_, select

from ticketing.cases.deadlines import overdue_condition
from ticketing.cases.models import Customer, Reminder, Ticket
from ticketing.cases.records import FollowUpRecord, ListenRecord, Resolution
from ticketing.cases.survey import SurveyResponse
from ticketing.cases.vocabulary import Emotion, Outcome, ReminderStatus, ResolutionState, Status, ValueTier
from ticketing.cases.winback import OPEN, WinBackAction
from ticketing.extensions import db

RECENT_DAYS = 90
HIGH_TIERS = (ValueTier.GOLD, ValueTier.VIP)
BREACH_KINDS = ("response_breached", "resolution_breached", "promise_passed")


@dataclass(frozen=True)
class Reason:
    key: str
    points: int
    label: object  # lazy, translated when shown


REASONS = (
    Reason("angry", 3, _l("Angry at intake")),
    Reason("repeat", 2, _l("Two or more complaints in 90 days")),
    Reason("breached", 2, _l("A deadline was missed on their case")),
    Reason("rejected", 2, _l("Rejected a proposed resolution")),
    Reason("low_rating", 3, _l("Low rating (survey 1 or 2, or unsatisfied at the follow-up)")),
    Reason("high_value", 2, _l("High value tier (gold or VIP)")),
)
REASON_BY_KEY = {reason.key: reason for reason in REASONS}


@dataclass(frozen=True)
class Filters:
    tier: str | None = None
    min_score: int = 1
    open_only: bool = False


@dataclass
class AtRisk:
    customer: Customer
    score: int
    reasons: list[Reason]
    open_cases: int
    recent_cases: int
    last_case_at: datetime
    counts: dict = field(default_factory=dict)  # reason key -> number of cases behind it
    win_back: WinBackAction | None = None

    @property
    def reason_keys(self) -> list[str]:
        return [reason.key for reason in self.reasons]

    @property
    def explained(self) -> list[tuple[Reason, int | None]]:
        """Each reason met, with the number of cases behind it (None for the value tier)."""
        source = {"repeat": "recent", "high_value": None}
        return [(reason, self.counts.get(source.get(reason.key, reason.key))) for reason in self.reasons]


def _flag(condition):
    """How many of the customer's cases meet `condition`."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _case_stats(now: datetime):
    """One row per customer with counts of the cases behind each reason."""
    since = now - timedelta(days=RECENT_DAYS)
    angry = select(ListenRecord.ticket_id).where(ListenRecord.emotion == Emotion.ANGRY)
    rejected = select(Resolution.ticket_id).where(Resolution.state == ResolutionState.REJECTED)
    low_survey = select(SurveyResponse.ticket_id).where(SurveyResponse.satisfaction <= 2)
    unsatisfied = select(FollowUpRecord.ticket_id).where(
        or_(FollowUpRecord.outcome == Outcome.UNSATISFIED, FollowUpRecord.satisfaction <= 2)
    )
    breach_sent = select(Reminder.ticket_id).where(
        Reminder.kind.in_(BREACH_KINDS), Reminder.status == ReminderStatus.SENT
    )
    return (
        select(
            Ticket.customer_id.label("customer_id"),
            _flag(Ticket.created_at >= since).label("recent"),
            _flag(Ticket.status == Status.OPEN).label("open"),
            _flag(Ticket.id.in_(angry)).label("angry"),
            _flag(
                or_(overdue_condition(now), Ticket.responded_at > Ticket.response_due_at, Ticket.id.in_(breach_sent))
            ).label("breached"),
            _flag(Ticket.id.in_(rejected)).label("rejected"),
            _flag(or_(Ticket.id.in_(low_survey), Ticket.id.in_(unsatisfied))).label("low_rating"),
            func.max(Ticket.created_at).label("last_case_at"),
        )
        .where(
            or_(Ticket.status == Status.OPEN, Ticket.created_at >= since, Ticket.closed_at >= since),
            Ticket.merged_into_id.is_(None),
        )
        .group_by(Ticket.customer_id)
        .subquery()
    )


def _conditions(stats) -> dict:
    """reason key -> SQL condition on the per-customer row."""
    return {
        "angry": stats.c.angry > 0,
        "repeat": stats.c.recent >= 2,
        "breached": stats.c.breached > 0,
        "rejected": stats.c.rejected > 0,
        "low_rating": stats.c.low_rating > 0,
        "high_value": Customer.value_tier.in_(HIGH_TIERS),
    }


def _ranked(now: datetime):
    """Customer, score, each reason as a 0/1 column (`met_<key>`) and the case counts."""
    stats = _case_stats(now)
    conditions = _conditions(stats)
    met = {r.key: case((conditions[r.key], 1), else_=0) for r in REASONS}
    score = sum((met[r.key] * r.points for r in REASONS), literal(0)).label("score")
    query = select(Customer, score, stats, *(column.label(f"met_{key}") for key, column in met.items())).join(
        stats, stats.c.customer_id == Customer.id
    )
    return query, score, stats


def at_risk(now: datetime, filters: Filters = Filters(), limit: int | None = None) -> list[AtRisk]:
    """Customers ranked by score (highest first), each with the reasons behind it."""
    query, score, stats = _ranked(now)
    query = query.where(score >= max(filters.min_score, 1))
    if filters.tier:
        query = query.where(Customer.value_tier == filters.tier)
    if filters.open_only:
        query = query.where(stats.c.open > 0)
    query = query.order_by(score.desc(), stats.c.last_case_at.desc(), Customer.id)
    items = [_item(row) for row in db.session.execute(query.limit(limit) if limit else query)]
    _attach_win_backs(items)
    return items


def risk_of(customer_id: int, now: datetime) -> AtRisk | None:
    """One customer's score and reasons (None when nothing puts them at risk)."""
    query, score, _stats = _ranked(now)
    row = db.session.execute(query.where(Customer.id == customer_id, score > 0)).first()
    return _item(row) if row is not None else None


def _item(row) -> AtRisk:
    values = row._mapping
    counts = {key: int(values[key]) for key in ("angry", "recent", "breached", "rejected", "low_rating")}
    return AtRisk(
        customer=row[0],
        score=int(values["score"]),
        reasons=[r for r in REASONS if values[f"met_{r.key}"]],
        open_cases=int(values["open"]),
        recent_cases=counts["recent"],
        last_case_at=values["last_case_at"],
        counts=counts,
    )


def _attach_win_backs(items: list[AtRisk]) -> None:
    """The open win-back action of each listed customer, in one query."""
    ids = [item.customer.id for item in items]
    if not ids:
        return
    actions = {
        action.customer_id: action
        for action in db.session.scalars(
            select(WinBackAction).where(WinBackAction.customer_id.in_(ids), WinBackAction.status == OPEN)
        )
    }
    for item in items:
        item.win_back = actions.get(item.customer.id)
