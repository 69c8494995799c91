"""Customers at risk of leaving: an explainable score made of weighted reasons (the insight pages
list them, the desk shows one customer's on their record).

Who is considered: every customer with an open case, or a case opened or closed in the last
90 days (merged duplicates left out). Each reason below adds its points once; the score is
their sum, and the list is ranked by score, then by the latest case. Everything is counted in
the database, one aggregate row per customer. A case whose latest follow-up judged the customer lost or
at risk counts for that reason, shown with the kind and the cause of churn recorded.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, literal_column, or_, select, union

from ticketing.cases import catalogue
from ticketing.cases.deadlines import overdue_condition
from ticketing.cases.models import Customer, Reminder, Ticket
from ticketing.cases.queries import capped_count
from ticketing.cases.records import FollowUpRecord, ListenRecord, Resolution
from ticketing.cases.survey import SurveyResponse
from ticketing.cases.vocabulary import Emotion, Outcome, ReminderStatus, ResolutionState, Retention, Status
from ticketing.cases.winback import OPEN, WinBackAction, barred_reason, churn_judgements
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l

RECENT_DAYS = 90
BREACH_KINDS = ("response_breached", "resolution_breached", "promise_passed")


@dataclass(frozen=True)
class Reason:
    key: str
    points: int
    label: object  # lazy, translated when shown


REASONS = (
    Reason("lost", 5, _l("Judged lost at the follow-up")),
    Reason("at_risk", 3, _l("Judged at risk at the follow-up")),
    Reason("angry", 3, _l("Angry at intake")),
    Reason("repeat", 2, _l("Two or more complaints in 90 days")),
    Reason("breached", 2, _l("A deadline was missed on their case")),
    Reason("rejected", 2, _l("Rejected a proposed resolution")),
    Reason("low_rating", 3, _l("Low rating (survey 1 or 2, or unsatisfied at the follow-up)")),
    Reason("high_value", 2, _l("High-value tier")),
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
    judgement: FollowUpRecord | None = None  # the follow-up that judged them lost or at risk, if one did

    @property
    def reason_keys(self) -> list[str]:
        return [reason.key for reason in self.reasons]

    @property
    def explained(self) -> list[tuple[Reason, int | None]]:
        """Each reason met, with the number of cases behind it (None for the value tier)."""
        source = {"repeat": "recent", "high_value": None}
        return [(reason, self.counts.get(source.get(reason.key, reason.key))) for reason in self.reasons]

    @property
    def churn(self) -> str:
        """The kind and the cause of churn the follow-up recorded ("" when none judged them leaving)."""
        found = self.judgement
        return " · ".join(str(v.label) for v in (found.churn_type, found.churn_cause) if v) if found else ""

    @property
    def win_back_barred(self):
        """Why no win-back may be started for them (a fraudulent customer), or None."""
        return barred_reason(self.judgement)


def _flag(condition):
    """How many of the customer's cases meet `condition`."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _cohort(since: datetime, customer_id: int | None):
    """The ids of the cases the score looks at: open, or opened or closed since `since`. For the whole
    list, a UNION of three parts each driven by its own index (status, created_at, closed_at), so the
    work follows the open and recent cases, not the history; for one customer, their cases (the
    customer_id index)."""
    if customer_id is not None:
        return (
            select(Ticket.id)
            .where(
                Ticket.customer_id == customer_id,
                or_(Ticket.status == Status.OPEN, Ticket.created_at >= since, Ticket.closed_at >= since),
            )
            .subquery()
        )
    return union(
        select(Ticket.id).where(Ticket.status == Status.OPEN),
        select(Ticket.id).where(Ticket.created_at >= since),
        # Every status named, so the (status, closed_at) index picks the rows on PostgreSQL too.
        select(Ticket.id).where(Ticket.status.in_(list(Status)), Ticket.closed_at >= since),
    ).subquery()


def _has(model, *conditions):
    """The case has a `model` row meeting `conditions`: an EXISTS answered from an index that leads
    with the row's ticket_id and holds the columns of `conditions` (migration 0024), no row read."""
    return select(literal_column("1")).where(model.ticket_id == Ticket.id, *conditions).exists()


def _case_stats(now: datetime, customer_id: int | None = None):
    """One row per customer with counts of the cases behind each reason. Each case of the cohort is
    looked at once: its step records, survey answers and breach reminders through EXISTS on their
    ticket_id indexes, its latest follow-up through the same index, newest first."""
    since = now - timedelta(days=RECENT_DAYS)
    cohort = _cohort(since, customer_id)
    latest_retention = (
        select(FollowUpRecord.retention)
        .where(FollowUpRecord.ticket_id == Ticket.id)
        .order_by(FollowUpRecord.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    breach_sent = _has(Reminder, Reminder.status == ReminderStatus.SENT, Reminder.kind.in_(BREACH_KINDS))
    low_rating = or_(
        _has(SurveyResponse, SurveyResponse.satisfaction <= 2),
        _has(FollowUpRecord, or_(FollowUpRecord.outcome == Outcome.UNSATISFIED, FollowUpRecord.satisfaction <= 2)),
    )
    cases = (
        select(
            Ticket.customer_id.label("customer_id"),
            Ticket.created_at.label("created_at"),
            case((Ticket.created_at >= since, 1), else_=0).label("recent"),
            case((Ticket.status == Status.OPEN, 1), else_=0).label("open"),
            latest_retention.label("retention"),
            case((_has(ListenRecord, ListenRecord.emotion == Emotion.ANGRY), 1), else_=0).label("angry"),
            case(
                (or_(overdue_condition(now), Ticket.responded_at > Ticket.response_due_at, breach_sent), 1), else_=0
            ).label("breached"),
            case((_has(Resolution, Resolution.state == ResolutionState.REJECTED), 1), else_=0).label("rejected"),
            case((low_rating, 1), else_=0).label("low_rating"),
        )
        .join(cohort, cohort.c.id == Ticket.id)
        .where(Ticket.merged_into_id.is_(None))
        # Materialized: each case's lookups run once, not again inside the per-customer sums.
        .cte("risk_cases")
        .prefix_with("MATERIALIZED")
    )
    return (
        select(
            cases.c.customer_id,
            func.sum(cases.c.recent).label("recent"),
            func.sum(cases.c.open).label("open"),
            _flag(cases.c.retention == Retention.LOST).label("lost"),
            _flag(cases.c.retention == Retention.AT_RISK).label("at_risk"),
            func.sum(cases.c.angry).label("angry"),
            func.sum(cases.c.breached).label("breached"),
            func.sum(cases.c.rejected).label("rejected"),
            func.sum(cases.c.low_rating).label("low_rating"),
            func.max(cases.c.created_at).label("last_case_at"),
        )
        .group_by(cases.c.customer_id)
        .subquery()
    )


def _conditions(stats) -> dict:
    """reason key -> SQL condition on the per-customer row."""
    return {
        "lost": stats.c.lost > 0,
        "at_risk": stats.c.at_risk > 0,
        "angry": stats.c.angry > 0,
        "repeat": stats.c.recent >= 2,
        "breached": stats.c.breached > 0,
        "rejected": stats.c.rejected > 0,
        "low_rating": stats.c.low_rating > 0,
        "high_value": Customer.value_tier.in_(catalogue.high_value_tiers()),
    }


def _ranked(now: datetime, customer_id: int | None = None):
    """Customer, score, each reason as a 0/1 column (`met_<key>`) and the case counts."""
    stats = _case_stats(now, customer_id)
    conditions = _conditions(stats)
    met = {r.key: case((conditions[r.key], 1), else_=0) for r in REASONS}
    score = sum((met[r.key] * r.points for r in REASONS), literal(0)).label("score")
    query = select(Customer, score, stats, *(column.label(f"met_{key}") for key, column in met.items())).join(
        stats, stats.c.customer_id == Customer.id
    )
    return query, score, stats


def at_risk(now: datetime, filters: Filters = Filters(), limit: int | None = None, offset: int = 0) -> list[AtRisk]:
    """Customers ranked by score (highest first), each with the reasons behind it; `limit` of them
    from the `offset`-th on (a page of the list), or all."""
    query, score, stats = _ranked(now)
    query = query.where(score >= max(filters.min_score, 1))
    if filters.tier:
        query = query.where(Customer.value_tier == filters.tier)
    if filters.open_only:
        query = query.where(stats.c.open > 0)
    query = query.order_by(score.desc(), stats.c.last_case_at.desc(), Customer.id)
    if limit:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    items = [_item(row) for row in db.session.execute(query)]
    _attach_win_backs(items)
    _attach_judgements(items)
    return items


def cohort_size(now: datetime, limit: int | None = None) -> int:
    """About how many cases the score reads (open, opened or closed in the last RECENT_DAYS; a case in
    two of these counted twice): three counts, each on its own index; with `limit`, each counted no
    further than one past it."""
    since = now - timedelta(days=RECENT_DAYS)
    parts = [
        Ticket.status == Status.OPEN,
        Ticket.created_at >= since,
        Ticket.status.in_(list(Status)) & (Ticket.closed_at >= since),
    ]
    return sum(capped_count(select(Ticket.id).where(part), limit) for part in parts)


def as_plain(item: AtRisk) -> list:
    """One customer of the ranking as plain values (a report kept aside, scheduling/reports.py)."""
    return [item.customer.id, item.score, item.reason_keys, item.open_cases, item.last_case_at.isoformat(), item.counts]


def from_plain(rows: list[list]) -> list[AtRisk]:
    """Customers of a ranking kept aside, in its order, each with their open win-back action and
    churn judgement as they are now; a customer since removed is left out."""
    ids = [row[0] for row in rows]
    customers = {}
    for start in range(0, len(ids), BATCH):
        customers.update(
            (customer.id, customer)
            for customer in db.session.scalars(select(Customer).where(Customer.id.in_(ids[start : start + BATCH])))
        )
    items = [
        AtRisk(
            customer=customers[customer_id],
            score=score,
            reasons=[REASON_BY_KEY[key] for key in keys if key in REASON_BY_KEY],
            open_cases=open_cases,
            recent_cases=counts["recent"],
            last_case_at=datetime.fromisoformat(last_case_at),
            counts=counts,
        )
        for customer_id, score, keys, open_cases, last_case_at, counts in rows
        if customer_id in customers
    ]
    _attach_win_backs(items)
    _attach_judgements(items)
    return items


def risk_of(customer_id: int, now: datetime) -> AtRisk | None:
    """One customer's score and reasons (None when nothing puts them at risk)."""
    query, score, _stats = _ranked(now, customer_id)
    row = db.session.execute(query.where(Customer.id == customer_id, score > 0)).first()
    if row is None:
        return None
    item = _item(row)
    _attach_judgements([item])
    return item


def _item(row) -> AtRisk:
    values = row._mapping
    counts = {
        key: int(values[key]) for key in ("lost", "at_risk", "angry", "recent", "breached", "rejected", "low_rating")
    }
    return AtRisk(
        customer=row[0],
        score=int(values["score"]),
        reasons=[r for r in REASONS if values[f"met_{r.key}"]],
        open_cases=int(values["open"]),
        recent_cases=counts["recent"],
        last_case_at=values["last_case_at"],
        counts=counts,
    )


BATCH = 500  # customers per lookup of their win-back actions and judgements (the whole list's CSV)


def _batches(items: list[AtRisk]):
    for start in range(0, len(items), BATCH):
        yield [item.customer.id for item in items[start : start + BATCH]]


def _attach_win_backs(items: list[AtRisk]) -> None:
    """The open win-back action of each listed customer, in one query per batch of them."""
    actions = {}
    for ids in _batches(items):
        actions.update(
            (action.customer_id, action)
            for action in db.session.scalars(
                select(WinBackAction).where(WinBackAction.customer_id.in_(ids), WinBackAction.status == OPEN)
            )
        )
    for item in items:
        item.win_back = actions.get(item.customer.id)


def _attach_judgements(items: list[AtRisk]) -> None:
    """The follow-up that judged each listed customer lost or at risk (its kind and cause of churn),
    a batch of customers at a time (any of their cases' latest follow-ups: a fraudulent judgement on
    an old case still bars a win-back)."""
    found = {}
    for ids in _batches(items):
        found.update(churn_judgements(ids))
    for item in items:
        item.judgement = found.get(item.customer.id)
