"""The team view: per staff member, over a period, what they handled and how well.

Figures belong to the case's current assignee. In the period: cases closed and the median
time from intake to closing; customers' survey ratings (CSAT 1-5) given; supervisor reviews
decided (approved or returned); quality scores of sampled cases. Open cases are counted now.
Each figure is one GROUP BY in the database, driven by an index on the period's date (the case's
closing, the answer's, the decision's), so it reads the period, not the history; the median uses a
window function (SQLite and PostgreSQL alike).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from ticketing.auth.models import User
from ticketing.cases.improvement import QualityScore
from ticketing.cases.models import Ticket
from ticketing.cases.queries import capped_count
from ticketing.cases.records import ReviewRecord
from ticketing.cases.survey import SurveyResponse
from ticketing.cases.vocabulary import ReviewDecision, Status
from ticketing.extensions import db
from ticketing.insight.queries import seconds_between


@dataclass
class MemberFigures:
    user: User
    closed: int = 0
    open_now: int = 0
    median_hours: float | None = None
    ratings: int = 0
    average_rating: float | None = None
    approved: int = 0
    returned: int = 0
    scored: int = 0
    average_quality: float | None = None


def _closed_in(since: datetime, until: datetime):
    return and_(
        Ticket.status == Status.CLOSED,
        Ticket.closed_at >= since,
        Ticket.closed_at < until,
        Ticket.assignee_id.is_not(None),
    )


def _median_hours(since: datetime, until: datetime, counts: dict[int, int]) -> dict[int, float]:
    """Per assignee, the median of (closed - opened) over cases closed in the period: the middle
    row (odd count) or the mean of the two middle rows (even), picked by row_number(). `counts` are
    the cases each assignee closed in the period (the same condition), so one window sort does."""
    if not counts:
        return {}
    duration = seconds_between(Ticket.closed_at, Ticket.created_at)
    ranked = (
        select(
            Ticket.assignee_id.label("user_id"),
            duration.label("seconds"),
            func.row_number().over(partition_by=Ticket.assignee_id, order_by=duration).label("rn"),
        )
        .where(_closed_in(since, until))
        .subquery()
    )
    n = case(counts, value=ranked.c.user_id)
    rows = db.session.execute(
        select(ranked.c.user_id, func.avg(ranked.c.seconds))
        .where(ranked.c.rn * 2 >= n, ranked.c.rn * 2 <= n + 2)
        .group_by(ranked.c.user_id)
    )
    return {user_id: float(seconds) / 3600 for user_id, seconds in rows}


def _per_assignee(*columns, where, joins=(), driver=Ticket) -> dict[int, tuple]:
    """One GROUP BY per assignee; `driver` is the table the period's condition is on (it leads the
    join, so its index on the period's date picks the rows)."""
    query = select(Ticket.assignee_id, *columns).select_from(driver)
    for target, on in joins:
        query = query.join(target, on)
    rows = db.session.execute(query.where(Ticket.assignee_id.is_not(None), *where).group_by(Ticket.assignee_id))
    return {row[0]: tuple(row[1:]) for row in rows}


def team_figures(since: datetime, until: datetime) -> list[MemberFigures]:
    """One row per active staff member (and anyone else with figures in the period), busiest first."""
    closed = _per_assignee(func.count(Ticket.id), where=[_closed_in(since, until)])
    open_now = _per_assignee(func.count(Ticket.id), where=[Ticket.status == Status.OPEN])
    ratings = _per_assignee(
        func.count(SurveyResponse.id),
        func.avg(SurveyResponse.satisfaction),
        driver=SurveyResponse,
        joins=[(Ticket, SurveyResponse.ticket_id == Ticket.id)],
        # Answers an agent took down on the phone for their own case do not rate that agent.
        where=[
            SurveyResponse.created_at >= since,
            SurveyResponse.created_at < until,
            or_(SurveyResponse.recorded_by_id.is_(None), SurveyResponse.recorded_by_id != Ticket.assignee_id),
        ],
    )
    reviews = _per_assignee(
        func.coalesce(func.sum(case((ReviewRecord.decision == ReviewDecision.APPROVED, 1), else_=0)), 0),
        func.coalesce(func.sum(case((ReviewRecord.decision == ReviewDecision.RETURNED, 1), else_=0)), 0),
        driver=ReviewRecord,
        joins=[(Ticket, ReviewRecord.ticket_id == Ticket.id)],
        where=[ReviewRecord.decided_at >= since, ReviewRecord.decided_at < until],
    )
    quality = {
        row[0]: tuple(row[1:])
        for row in db.session.execute(
            select(QualityScore.agent_id, func.count(QualityScore.id), func.avg(QualityScore.score))
            .where(
                QualityScore.score.is_not(None),
                QualityScore.agent_id.is_not(None),
                QualityScore.scored_at >= since,
                QualityScore.scored_at < until,
            )
            .group_by(QualityScore.agent_id)
        )
    }
    medians = _median_hours(since, until, {user_id: figures[0] for user_id, figures in closed.items()})
    with_figures = set(closed) | set(open_now) | set(ratings) | set(reviews) | set(quality)
    users = db.session.scalars(select(User).where(User.active.is_(True) | User.id.in_(with_figures)))
    rows = [
        MemberFigures(
            user=user,
            closed=_first(closed, user.id, 0),
            open_now=_first(open_now, user.id, 0),
            median_hours=medians.get(user.id),
            ratings=_first(ratings, user.id, 0),
            average_rating=_number(ratings, user.id, 1),
            approved=int(_first(reviews, user.id, 0)),
            returned=int(_number(reviews, user.id, 1) or 0),
            scored=_first(quality, user.id, 0),
            average_quality=_number(quality, user.id, 1),
        )
        for user in users
    ]
    return sorted(rows, key=lambda row: (-row.closed, -row.open_now, row.user.name.lower()))


def closed_count(since: datetime, until: datetime, limit: int | None = None) -> int:
    """The cases closed in the period, the most of what the figures read (one count on its index);
    with `limit`, counted no further than one past it."""
    return capped_count(select(Ticket.id).where(_closed_in(since, until)), limit)


FIELDS = (
    "closed",
    "open_now",
    "median_hours",
    "ratings",
    "average_rating",
    "approved",
    "returned",
    "scored",
    "average_quality",
)


def as_plain(rows: list[MemberFigures]) -> list[list]:
    """The figures as plain values, a member's id first (a report kept aside, scheduling/reports.py)."""
    return [[row.user.id, *(getattr(row, name) for name in FIELDS)] for row in rows]


def from_plain(values: list[list]) -> list[MemberFigures]:
    """The figures kept aside, each with its member as they are now (a member since removed left out)."""
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_([v[0] for v in values])))}
    return [
        MemberFigures(users[user_id], **dict(zip(FIELDS, figures))) for user_id, *figures in values if user_id in users
    ]


def _first(figures: dict, user_id: int, default):
    return figures[user_id][0] if user_id in figures else default


def _number(figures: dict, user_id: int, index: int) -> float | None:
    value = figures[user_id][index] if user_id in figures else None
    return float(value) if value is not None else None


def period(days: int, now: datetime) -> tuple[datetime, datetime]:
    """The last `days` days up to now."""
    return now - timedelta(days=days), now
