"""insight: per-case facts for the dashboard (one row per case), filled from the existing cases

The dashboard's figures read `case_facts` (ticketing/cases/facts.py) instead of the step records;
`case_facts_pending` holds the cases changed since their facts were written. The backfill writes every
case's facts in batches of ids with a copy of the application's query as of this migration (facts.py's
_facts_select), so the facts equal what the services write; `flask insight rebuild` writes them again.

Revision ID: 0025_daily_figures
Revises: 0024_insight_cohorts
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_daily_figures"
down_revision = "0024_insight_cohorts"
branch_labels = None
depends_on = None


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, length=32)


BATCH = 5000
T = sa.table(
    "tickets",
    *(
        sa.column(name)
        for name in (
            "id",
            "created_at",
            "merged_into_id",
            "category",
            "channel",
            "product_id",
            "product",
            "assignee_id",
            "customer_id",
            "status",
            "step",
            "updated_at",
            "responded_at",
            "response_due_at",
            "resolution_due_at",
            "closed_at",
        )
    ),
)
LISTEN = sa.table("listen_records", sa.column("ticket_id"), sa.column("created_at"))
APOLOGY = sa.table("apology_records", sa.column("ticket_id"), sa.column("created_at"))
MESSAGE = sa.table("messages", sa.column("ticket_id"), sa.column("created_at"), sa.column("author_id"))
ANALYSIS = sa.table("analysis_records", sa.column("id"), sa.column("ticket_id"), sa.column("created_at"))
ANALYSIS_CAUSE = sa.table("analysis_records", sa.column("id"), sa.column("root_cause"))
RESOLUTION = sa.table(
    "resolutions",
    sa.column("id"),
    sa.column("ticket_id"),
    sa.column("created_at"),
    sa.column("carried_out_at"),
    sa.column("state"),
)
FOLLOW_UP = sa.table(
    "follow_up_records",
    *(
        sa.column(name)
        for name in (
            "id",
            "ticket_id",
            "created_at",
            "outcome",
            "retention",
            "churn_type",
            "churn_cause",
            "satisfaction",
        )
    ),
)
SURVEY_COLUMNS = (
    "id",
    "ticket_id",
    "created_at",
    "satisfaction",
    "recommend",
    "buy_again",
    "fair_outcome",
    "fair_process",
    "fair_treatment",
    "recorded_by_id",
)
SURVEY = sa.table("survey_responses", *(sa.column(name) for name in SURVEY_COLUMNS))
STEP_SPANS = {
    "took_listen": ("listened", "opened"),
    "took_apologise": ("apologised", "listened"),
    "took_analyse": ("analysed", "apologised"),
    "took_resolve": ("carried_out", "analysed"),
    "took_follow_up": ("followed_up", "carried_out"),
    "took_review": ("closed", "last_follow_up"),
}
SUMS = (
    "answers",
    "by_staff",
    "score_1",
    "score_2",
    "score_3",
    "score_4",
    "score_5",
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


def _epoch(dialect: str, value):
    """Seconds since 1970 of a stored time, as the application's epoch() computes them."""
    if dialect == "sqlite":
        return (sa.func.julianday(value) - 2440587.5) * 86400.0
    return sa.cast(sa.extract("epoch", value), sa.Float())


def _facts_select(dialect: str, low: int, high: int):
    """The facts of the cases with low < id <= high (a copy of facts._facts_select at this revision)."""

    def chosen(column):
        return sa.and_(column > low, column <= high)

    def first(table, column, *where):
        return sa.select(sa.func.min(column)).where(table.c.ticket_id == T.c.id, *where).scalar_subquery()

    def last(table, column, *where):
        return sa.select(sa.func.max(column)).where(table.c.ticket_id == T.c.id, *where).scalar_subquery()

    def epoch(value):
        return _epoch(dialect, value)

    not_refused = RESOLUTION.c.state != "refused"
    milestones = (
        sa.select(
            T.c.id.label("id"),
            epoch(T.c.created_at).label("opened"),
            epoch(sa.case((T.c.status == "closed", T.c.closed_at))).label("closed"),
            epoch(first(LISTEN, LISTEN.c.created_at)).label("listened"),
            epoch(first(APOLOGY, APOLOGY.c.created_at)).label("apologised"),
            epoch(first(MESSAGE, MESSAGE.c.created_at, MESSAGE.c.author_id.is_not(None))).label("message"),
            epoch(first(ANALYSIS, ANALYSIS.c.created_at)).label("analysed"),
            epoch(first(RESOLUTION, RESOLUTION.c.carried_out_at)).label("carried_out"),
            epoch(last(RESOLUTION, RESOLUTION.c.carried_out_at)).label("last_carried_out"),
            epoch(first(FOLLOW_UP, FOLLOW_UP.c.created_at)).label("followed_up"),
            epoch(last(FOLLOW_UP, FOLLOW_UP.c.created_at)).label("last_follow_up"),
            first(RESOLUTION, RESOLUTION.c.created_at, not_refused).label("proposed_at"),
            sa.select(sa.func.count(RESOLUTION.c.id))
            .where(RESOLUTION.c.ticket_id == T.c.id, not_refused)
            .scalar_subquery()
            .label("proposals"),
            sa.exists()
            .where(FOLLOW_UP.c.ticket_id == T.c.id, FOLLOW_UP.c.outcome == "unsatisfied")
            .label("unsatisfied"),
            last(ANALYSIS, ANALYSIS.c.id).label("analysis_id"),
            last(FOLLOW_UP, FOLLOW_UP.c.id).label("follow_up_id"),
            last(SURVEY, SURVEY.c.id).label("survey_id"),
        )
        .where(chosen(T.c.id))
        .cte("milestones")
        .prefix_with("MATERIALIZED")
    )
    m = milestones.c
    a = SURVEY.c

    def counted(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    survey = (
        sa.select(
            a.ticket_id.label("ticket_id"),
            sa.func.count().label("answers"),
            counted(a.recorded_by_id.is_not(None)).label("by_staff"),
            *(counted(a.satisfaction == score).label(f"score_{score}") for score in range(1, 6)),
            counted(a.recommend >= 9).label("promoters"),
            counted(sa.and_(a.recommend >= 7, a.recommend < 9)).label("passives"),
            counted(a.recommend < 7).label("detractors"),
            *(counted(a.buy_again == value).label(f"buy_{value}") for value in ("yes", "maybe", "no")),
            *(sa.func.sum(a[name]).label(name) for name in ("fair_outcome", "fair_process", "fair_treatment")),
        )
        .where(chosen(a.ticket_id))
        .group_by(a.ticket_id)
        .subquery("survey")
    )
    s = survey.c
    analysis, follow_up, last_answer = ANALYSIS_CAUSE.alias("analysis"), FOLLOW_UP.alias("follow_up"), SURVEY.alias()
    earlier, earlier_case = SURVEY.alias("earlier"), T.alias("earlier_case")
    rating_before = (
        sa.select(earlier.c.satisfaction)
        .select_from(earlier.join(earlier_case, earlier_case.c.id == earlier.c.ticket_id))
        .where(earlier_case.c.customer_id == T.c.customer_id, earlier.c.created_at < T.c.created_at)
        .order_by(earlier.c.created_at.desc(), earlier.c.id.desc())
        .limit(1)
        .correlate(T)
        .scalar_subquery()
    )
    columns = {
        "ticket_id": T.c.id,
        "created_at": T.c.created_at,
        "merged": T.c.merged_into_id.is_not(None),
        **{name: T.c[name] for name in ("category", "channel", "product_id", "product", "assignee_id")},
        **{name: T.c[name] for name in ("customer_id", "status", "step")},
        "updated_s": epoch(T.c.updated_at),
        "responded_at": T.c.responded_at,
        "response_due_at": T.c.response_due_at,
        "resolution_due_at": T.c.resolution_due_at,
        "proposed_at": m.proposed_at,
        "response_s": sa.case(
            (m.apologised.is_(None), m.message),
            (m.message.is_(None), m.apologised),
            (m.apologised <= m.message, m.apologised),
            else_=m.message,
        )
        - m.opened,
        "apology_s": m.apologised - m.opened,
        "resolution_s": m.last_carried_out - m.opened,
        **{name: m[end] - m[start] for name, (end, start) in STEP_SPANS.items()},
        "followed": m.follow_up_id.is_not(None),
        "first_time": sa.and_(m.follow_up_id.is_not(None), sa.not_(m.unsatisfied), m.proposals == 1),
        "root_cause": analysis.c.root_cause,
        "follow_up_id": m.follow_up_id,
        "retention": follow_up.c.retention,
        "churn_type": follow_up.c.churn_type,
        "churn_cause": follow_up.c.churn_cause,
        "follow_up_satisfaction": follow_up.c.satisfaction,
        **{name: sa.func.coalesce(s[name], sa.literal(0)) for name in SUMS},
        "rating_after": last_answer.c.satisfaction,
        "rating_before": sa.case((m.survey_id.is_not(None), rating_before)),
    }
    query = sa.select(*(column.label(name) for name, column in columns.items())).select_from(
        T.join(milestones, milestones.c.id == T.c.id)
        .outerjoin(survey, survey.c.ticket_id == T.c.id)
        .outerjoin(analysis, analysis.c.id == m.analysis_id)
        .outerjoin(follow_up, follow_up.c.id == m.follow_up_id)
        .outerjoin(last_answer, last_answer.c.id == m.survey_id)
    )
    return query, list(columns)


def _backfill(connection) -> None:
    """Every existing case's facts, BATCH ids at a time."""
    top = connection.execute(sa.select(sa.func.max(T.c.id))).scalar() or 0
    for low in range(0, top, BATCH):
        query, names = _facts_select(connection.dialect.name, low, low + BATCH)
        facts = sa.table("case_facts", *(sa.column(name) for name in names))
        connection.execute(sa.insert(facts).from_select(names, query))


def _counts(*names):
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def upgrade():
    op.create_table(
        "case_facts",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column(
            "channel", _enum("channel", "phone", "email", "web", "in_person", "social", "wechat"), nullable=False
        ),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("product", sa.String(length=120), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("status", _enum("status", "open", "closed", "cancelled"), nullable=False),
        sa.Column(
            "step", _enum("step", "listen", "apologise", "analyse", "resolve", "follow_up", "review"), nullable=False
        ),
        sa.Column("updated_s", sa.Float(), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True),
        *(
            sa.Column(name, sa.Float(), nullable=True)
            for name in (
                "response_s",
                "apology_s",
                "resolution_s",
                "took_listen",
                "took_apologise",
                "took_analyse",
                "took_resolve",
                "took_follow_up",
                "took_review",
            )
        ),
        sa.Column("followed", sa.Boolean(), nullable=False),
        sa.Column("first_time", sa.Boolean(), nullable=False),
        sa.Column(
            "root_cause",
            _enum("rootcause", "product", "service", "false_information", "customer_misuse", "expectation_too_high"),
            nullable=True,
        ),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("retention", _enum("retention", "retained", "at_risk", "lost"), nullable=True),
        sa.Column(
            "churn_type",
            _enum(
                "churntype",
                "natural",
                "competitive",
                "negligent",
                "malicious",
                "non_malicious",
                "retaliatory",
                "fraudulent",
            ),
            nullable=True,
        ),
        sa.Column(
            "churn_cause",
            _enum(
                "churncause",
                "management",
                "product",
                "price",
                "promotion",
                "no_innovation",
                "company_turmoil",
                "overbearing",
                "unkept_promises",
                "political",
                "other",
            ),
            nullable=True,
        ),
        sa.Column("follow_up_satisfaction", sa.Integer(), nullable=True),
        *_counts(
            "answers",
            "by_staff",
            "score_1",
            "score_2",
            "score_3",
            "score_4",
            "score_5",
            "promoters",
            "passives",
            "detractors",
            "buy_yes",
            "buy_maybe",
            "buy_no",
            "fair_outcome",
            "fair_process",
            "fair_treatment",
        ),
        sa.Column("rating_after", sa.Integer(), nullable=True),
        sa.Column("rating_before", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index("ix_case_facts_created_at", "case_facts", ["created_at"], unique=False)
    op.create_index("ix_case_facts_follow_up_id", "case_facts", ["follow_up_id"], unique=False)
    op.create_table(
        "case_facts_pending",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_case_facts_pending_ticket_id", "case_facts_pending", ["ticket_id"], unique=False)

    _backfill(op.get_bind())


def downgrade():
    op.drop_index("ix_case_facts_pending_ticket_id", table_name="case_facts_pending")
    op.drop_table("case_facts_pending")
    op.drop_index("ix_case_facts_follow_up_id", table_name="case_facts")
    op.drop_index("ix_case_facts_created_at", table_name="case_facts")
    op.drop_table("case_facts")
