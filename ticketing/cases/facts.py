"""Per-case facts for the Insight dashboard: one narrow row per case with everything its figures use.

Why: the dashboard used to work every figure out from the cases and their step records, with
correlated look-ups (first apology, latest resolution carried out, latest follow-up…) for every case
in view, so its cost followed the cases shown (5 s for 90 days, 19 s for a year at 1,000,000 cases).
Here each case's dimensions (when it was opened, category, channel, product, assignee, customer,
status, step), its measured durations (seconds to the first response, the apology, the resolution
carried out, each step's span) and its outcomes (deadlines, first-contact resolution, latest analysis,
latest follow-up, survey answers summed, rating before and after) are worked out once, when the case
changes, and the figures read this one table with the period's index.

How it stays true:
- `Change.done()` (cases/services/base.py), the one path every change to a case takes, calls
  `facts_pending.touch()`,
  which adds a row to `case_facts_pending` in the same transaction: no case change can be missed, and
  the change itself costs one small INSERT (intake and the desk stay fast).
- `catch_up()` rewrites the facts of the pending cases (set-based, a few queries per batch) and removes
  exactly the marks it read (a mark made meanwhile stays for the next pass). The scheduler's
  insight_facts job runs it every minute for the whole backlog; the dashboard runs it before reading,
  for at most CATCH_UP_LIMIT cases, so a report never waits on a backlog; with marks
  still pending the page says "as of" the oldest of them (`pending_since()`): every change before that
  moment is in the figures.
- Writers that change cases without a Change: merging products re-points `tickets.product_id` in one
  UPDATE, so the figures map a product merged into another to the survivor when they read
  (insight/queries); merging customers goes through Change for every case before its UPDATE, and
  the facts are only rewritten after it commits.
- `rebuild()` (`flask insight rebuild`, and migration 0025's backfill) writes every case's facts again in
  batches of ids.

Durations are computed exactly as the dashboard computed them before (seconds as the difference of
`epoch()` values), so every figure, percentiles included, equals the computation from the cases
(tests/insight/test_figures_exact.py compares them with that reference, kept in tests/insight/reference).
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, aliased, mapped_column
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from ticketing.cases.facts_pending import CaseFactsPending
from ticketing.cases.models import Message, Ticket
from ticketing.cases.records import AnalysisRecord, ApologyRecord, FollowUpRecord, ListenRecord, Resolution
from ticketing.cases.survey import SurveyResponse
from ticketing.cases.vocabulary import (
    Channel,
    ChurnCause,
    ChurnType,
    Outcome,
    ResolutionState,
    Retention,
    RootCause,
    Status,
    Step,
)
from ticketing.extensions import db
from ticketing.types import UTCDateTime, enum_type

BATCH = 2000  # cases per INSERT … SELECT when rebuilding
CATCH_UP_LIMIT = 500  # pending cases the dashboard brings up to date before it reads


class CaseFacts(db.Model):
    """One row per case: what the dashboard's figures read (see the module's docstring)."""

    __tablename__ = "case_facts"
    __table_args__ = (
        Index("ix_case_facts_created_at", "created_at"),
        Index("ix_case_facts_follow_up_id", "follow_up_id"),
    )

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True, autoincrement=False)
    # dimensions (the cohort's filters) and state
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    merged: Mapped[bool] = mapped_column(Boolean, nullable=False)
    category: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel))
    product_id: Mapped[int | None] = mapped_column(Integer)
    product: Mapped[str | None] = mapped_column(String(120))
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[Status] = mapped_column(enum_type(Status))
    step: Mapped[Step] = mapped_column(enum_type(Step))
    updated_s: Mapped[float | None] = mapped_column(Float)  # epoch seconds of tickets.updated_at
    # deadlines (compared with the request's "now" when read)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # seconds from intake (NULL: not got there)
    response_s: Mapped[float | None] = mapped_column(Float)
    apology_s: Mapped[float | None] = mapped_column(Float)
    resolution_s: Mapped[float | None] = mapped_column(Float)
    # seconds each step took (see STEP_SPANS)
    took_listen: Mapped[float | None] = mapped_column(Float)
    took_apologise: Mapped[float | None] = mapped_column(Float)
    took_analyse: Mapped[float | None] = mapped_column(Float)
    took_resolve: Mapped[float | None] = mapped_column(Float)
    took_follow_up: Mapped[float | None] = mapped_column(Float)
    took_review: Mapped[float | None] = mapped_column(Float)
    # first-contact resolution
    followed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    first_time: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # the latest analysis and the latest follow-up
    root_cause: Mapped[RootCause | None] = mapped_column(enum_type(RootCause))
    follow_up_id: Mapped[int | None] = mapped_column(Integer)
    retention: Mapped[Retention | None] = mapped_column(enum_type(Retention))
    churn_type: Mapped[ChurnType | None] = mapped_column(enum_type(ChurnType))
    churn_cause: Mapped[ChurnCause | None] = mapped_column(enum_type(ChurnCause))
    follow_up_satisfaction: Mapped[int | None] = mapped_column(Integer)
    # every survey answer on the case, summed
    answers: Mapped[int] = mapped_column(Integer, nullable=False)
    by_staff: Mapped[int] = mapped_column(Integer, nullable=False)
    score_1: Mapped[int] = mapped_column(Integer, nullable=False)
    score_2: Mapped[int] = mapped_column(Integer, nullable=False)
    score_3: Mapped[int] = mapped_column(Integer, nullable=False)
    score_4: Mapped[int] = mapped_column(Integer, nullable=False)
    score_5: Mapped[int] = mapped_column(Integer, nullable=False)
    promoters: Mapped[int] = mapped_column(Integer, nullable=False)
    passives: Mapped[int] = mapped_column(Integer, nullable=False)
    detractors: Mapped[int] = mapped_column(Integer, nullable=False)
    buy_yes: Mapped[int] = mapped_column(Integer, nullable=False)
    buy_maybe: Mapped[int] = mapped_column(Integer, nullable=False)
    buy_no: Mapped[int] = mapped_column(Integer, nullable=False)
    fair_outcome: Mapped[int] = mapped_column(Integer, nullable=False)
    fair_process: Mapped[int] = mapped_column(Integer, nullable=False)
    fair_treatment: Mapped[int] = mapped_column(Integer, nullable=False)
    # the latest answer's satisfaction, and the customer's latest rating before the case was opened
    rating_after: Mapped[int | None] = mapped_column(Integer)
    rating_before: Mapped[int | None] = mapped_column(Integer)


class epoch(FunctionElement):
    """A stored time as seconds since 1970 (a float; NULL stays NULL)."""

    type = Float()
    name = "epoch"
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


def earliest(column, *where) -> ColumnElement:
    """The smallest value of `column` among the current case's rows (correlated to Ticket)."""
    return (
        select(func.min(column)).where(column.class_.ticket_id == Ticket.id, *where).correlate(Ticket).scalar_subquery()
    )


def latest(column, *where) -> ColumnElement:
    """The largest value of `column` among the current case's rows (correlated to Ticket)."""
    return (
        select(func.max(column)).where(column.class_.ticket_id == Ticket.id, *where).correlate(Ticket).scalar_subquery()
    )


def sooner(first: ColumnElement, second: ColumnElement) -> ColumnElement:
    """The earlier of two values, either of which may be NULL."""
    return case((first.is_(None), second), (second.is_(None), first), (first <= second, first), else_=second)


# How long a case spent in each step: from the first record of the step before to the first of this
# one (the review step: from the latest follow-up to closing). Pairs of milestone names.
STEP_SPANS = {
    Step.LISTEN: ("listened", "opened"),
    Step.APOLOGISE: ("apologised", "listened"),
    Step.ANALYSE: ("analysed", "apologised"),
    Step.RESOLVE: ("carried_out", "analysed"),
    Step.FOLLOW_UP: ("followed_up", "carried_out"),
    Step.REVIEW: ("closed", "last_follow_up"),
}
TOOK = {step: f"took_{step.value}" for step in STEP_SPANS}


def _facts_select(chosen: Callable[[ColumnElement], ColumnElement]):
    """The facts of the cases whose id `chosen(Ticket.id)` picks, in CaseFacts' column order: a first
    pass gathers the milestones per case (a MATERIALIZED CTE, so each look-up runs once per case), the
    survey answers are summed per case in one grouped pass."""
    milestones = (
        select(
            Ticket.id.label("id"),
            epoch(Ticket.created_at).label("opened"),
            epoch(case((Ticket.status == Status.CLOSED, Ticket.closed_at))).label("closed"),
            epoch(earliest(ListenRecord.created_at)).label("listened"),
            epoch(earliest(ApologyRecord.created_at)).label("apologised"),
            epoch(earliest(Message.created_at, Message.author_id.is_not(None))).label("message"),
            epoch(earliest(AnalysisRecord.created_at)).label("analysed"),
            epoch(earliest(Resolution.carried_out_at)).label("carried_out"),
            epoch(latest(Resolution.carried_out_at)).label("last_carried_out"),
            epoch(earliest(FollowUpRecord.created_at)).label("followed_up"),
            epoch(latest(FollowUpRecord.created_at)).label("last_follow_up"),
            earliest(Resolution.created_at, Resolution.state != ResolutionState.REFUSED).label("proposed_at"),
            select(func.count(Resolution.id))
            .where(Resolution.ticket_id == Ticket.id, Resolution.state != ResolutionState.REFUSED)
            .correlate(Ticket)
            .scalar_subquery()
            .label("proposals"),
            exists()
            .where(FollowUpRecord.ticket_id == Ticket.id, FollowUpRecord.outcome == Outcome.UNSATISFIED)
            .correlate(Ticket)
            .label("unsatisfied"),
            latest(AnalysisRecord.id).label("analysis_id"),
            latest(FollowUpRecord.id).label("follow_up_id"),
            latest(SurveyResponse.id).label("survey_id"),
        )
        .where(chosen(Ticket.id))
        .cte("milestones")
        .prefix_with("MATERIALIZED")
    )
    m = milestones.c
    answer = SurveyResponse

    def counted(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    survey = (
        select(
            answer.ticket_id.label("ticket_id"),
            func.count().label("answers"),
            counted(answer.recorded_by_id.is_not(None)).label("by_staff"),
            *(counted(answer.satisfaction == score).label(f"score_{score}") for score in range(1, 6)),
            counted(answer.recommend >= 9).label("promoters"),
            counted(and_(answer.recommend >= 7, answer.recommend < 9)).label("passives"),
            counted(answer.recommend < 7).label("detractors"),
            *(counted(answer.buy_again == value).label(f"buy_{value}") for value in ("yes", "maybe", "no")),
            *(
                func.sum(getattr(answer, name)).label(name)
                for name in ("fair_outcome", "fair_process", "fair_treatment")
            ),
        )
        .where(chosen(answer.ticket_id))
        .group_by(answer.ticket_id)
        .subquery("survey")
    )
    s = survey.c
    analysis, follow_up, last_answer = aliased(AnalysisRecord), aliased(FollowUpRecord), aliased(SurveyResponse)
    earlier, earlier_case = aliased(SurveyResponse), aliased(Ticket)
    rating_before = (
        select(earlier.satisfaction)
        .join(earlier_case, earlier_case.id == earlier.ticket_id)
        .where(earlier_case.customer_id == Ticket.customer_id, earlier.created_at < Ticket.created_at)
        .order_by(earlier.created_at.desc(), earlier.id.desc())
        .limit(1)
        .correlate(Ticket)
        .scalar_subquery()
    )
    zero = literal(0)
    columns = {
        "ticket_id": Ticket.id,
        "created_at": Ticket.created_at,
        "merged": Ticket.merged_into_id.is_not(None),
        "category": Ticket.category,
        "channel": Ticket.channel,
        "product_id": Ticket.product_id,
        "product": Ticket.product,
        "assignee_id": Ticket.assignee_id,
        "customer_id": Ticket.customer_id,
        "status": Ticket.status,
        "step": Ticket.step,
        "updated_s": epoch(Ticket.updated_at),
        "responded_at": Ticket.responded_at,
        "response_due_at": Ticket.response_due_at,
        "resolution_due_at": Ticket.resolution_due_at,
        "proposed_at": m.proposed_at,
        "response_s": sooner(m.apologised, m.message) - m.opened,
        "apology_s": m.apologised - m.opened,
        "resolution_s": m.last_carried_out - m.opened,
        **{TOOK[step]: m[end] - m[start] for step, (end, start) in STEP_SPANS.items()},
        "followed": m.follow_up_id.is_not(None),
        "first_time": and_(m.follow_up_id.is_not(None), ~m.unsatisfied, m.proposals == 1),
        "root_cause": analysis.root_cause,
        "follow_up_id": m.follow_up_id,
        "retention": follow_up.retention,
        "churn_type": follow_up.churn_type,
        "churn_cause": follow_up.churn_cause,
        "follow_up_satisfaction": follow_up.satisfaction,
        **{
            name: func.coalesce(s[name], zero)
            for name in (
                "answers",
                "by_staff",
                *(f"score_{score}" for score in range(1, 6)),
                "promoters",
                "passives",
                "detractors",
                "buy_yes",
                "buy_maybe",
                "buy_no",
                "fair_outcome",
                "fair_process",
                "fair_treatment",
            )
        },
        "rating_after": last_answer.satisfaction,
        "rating_before": case((m.survey_id.is_not(None), rating_before)),
    }
    query = (
        select(*(column.label(name) for name, column in columns.items()))
        .select_from(Ticket)
        .join(milestones, milestones.c.id == Ticket.id)
        .outerjoin(survey, survey.c.ticket_id == Ticket.id)
        .outerjoin(analysis, analysis.id == m.analysis_id)
        .outerjoin(follow_up, follow_up.id == m.follow_up_id)
        .outerjoin(last_answer, last_answer.id == m.survey_id)
    )
    return query, list(columns)


def write(chosen: Callable[[ColumnElement], ColumnElement], connection=None) -> int:
    """Write again the facts of the cases `chosen(id)` picks (delete, then one INSERT … SELECT)."""
    run = connection.execute if connection is not None else db.session.execute
    table = CaseFacts.__table__
    run(delete(table).where(chosen(table.c.ticket_id)))
    query, names = _facts_select(chosen)
    return run(insert(table).from_select(names, query)).rowcount


def catch_up(limit: int | None = CATCH_UP_LIMIT) -> int:
    """Write the facts of (up to `limit`) pending cases, oldest marks first, and remove the marks read.
    Returns how many cases were written. The caller commits."""
    pending = CaseFactsPending.__table__
    query = select(pending.c.id, pending.c.ticket_id).order_by(pending.c.id)
    rows = db.session.execute(query).all() if limit is None else _first_cases(query, limit)
    if not rows:
        return 0
    ids = sorted({ticket_id for _mark, ticket_id in rows})
    for start in range(0, len(ids), BATCH):
        part = ids[start : start + BATCH]
        write(lambda column, part=part: column.in_(part))
    marks = [mark for mark, _ticket in rows]
    for start in range(0, len(marks), BATCH):
        db.session.execute(delete(pending).where(pending.c.id.in_(marks[start : start + BATCH])))
    return len(ids)


def _first_cases(query, limit: int) -> list:
    """The marks of the first `limit` cases pending (all marks of each of them)."""
    rows, cases = [], set()
    for mark, ticket_id in db.session.execute(query.limit(limit * 4)):
        if ticket_id not in cases and len(cases) >= limit:
            break
        cases.add(ticket_id)
        rows.append((mark, ticket_id))
    return rows


def pending_since() -> datetime | None:
    """When the oldest change not yet in the facts was made (None: the facts are up to date)."""
    return db.session.scalar(select(func.min(CaseFactsPending.marked_at)))


def rebuild(connection=None, batch: int = BATCH, progress: Callable[[int], None] | None = None) -> int:
    """Write every case's facts again, in batches of ids; the marks pending when it began are dropped
    (the changes they stand for are in what it reads), those made meanwhile stay."""
    run = connection.execute if connection is not None else db.session.execute
    pending = CaseFactsPending.__table__
    last_mark = run(select(func.max(pending.c.id))).scalar()
    top = run(select(func.max(Ticket.__table__.c.id))).scalar() or 0
    done = 0
    for low in range(0, top, batch):
        done += write(lambda column, low=low: and_(column > low, column <= low + batch), connection)
        if progress is not None:
            progress(done)
    if last_mark is not None:
        run(delete(pending).where(pending.c.id <= last_mark))
    return done
