"""SQL building blocks of the dashboard: the cohort of cases, durations, percentiles, time buckets.

Everything here runs in the database, the same on SQLite and PostgreSQL: Python only ever
receives grouped results, a handful of rows per figure, never one row per case.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, case, func, literal_column, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import CTE, ColumnElement, FunctionElement

from ticketing.cases.catalogue import Product
from ticketing.cases.models import Message, Ticket
from ticketing.cases.records import ApologyRecord, Resolution
from ticketing.cases.vocabulary import ResolutionState
from ticketing.extensions import db
from ticketing.insight.filters import Filters

SECONDS_PER_HOUR = 3600.0


class epoch(FunctionElement):
    """A stored time as seconds since 1970 (a float; NULL stays NULL). Durations are differences of
    these, taken once per case in `cases()`: parsing a time is the costly part on SQLite."""

    type = Float()
    name = "epoch"
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch, "postgresql")
def _epoch_postgresql(element, compiler, **kw):
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"


class seconds_between(FunctionElement):
    """`later - earlier` in seconds (a float; NULL when either is NULL), for a one-off difference."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS DOUBLE PRECISION)"


def seconds(moment: datetime) -> float:
    """A time of the request (now) on the same scale as epoch()."""
    return moment.timestamp()


def cohort(filters: Filters) -> list[ColumnElement]:
    """The cases a dashboard figure is about: opened (Ticket.created_at) in the period, matching
    the filters, and not a duplicate merged into another case (the same complaint counts once)."""
    conditions = [
        Ticket.created_at >= filters.since,
        Ticket.created_at < filters.until,
        Ticket.merged_into_id.is_(None),
    ]
    if filters.category:
        conditions.append(Ticket.category == filters.category)
    if filters.product:  # a product's code: its cases, whatever they typed (its names and aliases)
        conditions.append(
            Ticket.product_id == select(Product.id).where(Product.code == filters.product).scalar_subquery()
        )
    if filters.channel:
        conditions.append(Ticket.channel == filters.channel)
    if filters.assignee_id:
        conditions.append(Ticket.assignee_id == filters.assignee_id)
    return conditions


def cases(filters: Filters, *where, **columns) -> CTE:
    """The cohort (and `where`) as a table of case id plus the named `columns`, computed once: a
    MATERIALIZED common table expression, so that a correlated look-up (the first apology…) runs
    once per case however often the figure uses it, and the planner starts from the period's index."""
    query = select(Ticket.id.label("id"), *(column.label(name) for name, column in columns.items()))
    return query.where(*cohort(filters), *where).cte("cases").prefix_with("MATERIALIZED")


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
    """The earlier of two times, either of which may be NULL (SQLite's min(a, b) gives NULL then)."""
    return case((first.is_(None), second), (second.is_(None), first), (first <= second, first), else_=second)


def first_apology_at() -> ColumnElement:
    return earliest(ApologyRecord.created_at)


def first_staff_message_at() -> ColumnElement:
    return earliest(Message.created_at, Message.author_id.is_not(None))


def first_proposal_at() -> ColumnElement:
    """When the first proposal was made (a proposal the supervisor refused does not count)."""
    return earliest(Resolution.created_at, Resolution.state != ResolutionState.REFUSED)


def last_carried_out_at() -> ColumnElement:
    return latest(Resolution.carried_out_at)


@dataclass(frozen=True)
class Spread:
    """How long something took across cases: how many were measured, median and 90th percentile (hours)."""

    count: int = 0
    median: float | None = None
    p90: float | None = None


def spreads(parts: Mapping[str, ColumnElement], source: CTE) -> dict[str, Spread]:
    """Median and 90th percentile of several durations (in seconds over the columns of `source`,
    NULL = not measured), in one query. Percentiles are taken in SQL with window functions: rows
    are numbered in order within each part, and only the ranks needed come back. The median is the
    mean of the two middle values (the middle one for an odd count); the 90th percentile is the
    nearest-rank value, the one at rank ceil(0.9 n)."""
    keys = list(parts)
    branches = [
        select(literal_column(str(index)).label("part"), expression.label("d"))
        .select_from(source)
        .where(expression.is_not(None))
        for index, expression in enumerate(parts.values())
    ]
    values = union_all(*branches).cte("durations").prefix_with("MATERIALIZED")
    counts = select(values.c.part, func.count().label("n")).group_by(values.c.part).subquery()
    ranked = select(
        values.c.part, values.c.d, func.row_number().over(partition_by=values.c.part, order_by=values.c.d).label("rn")
    ).subquery()
    n, rank = counts.c.n, ranked.c.rn
    wanted = or_(rank == (n + 1) // 2, rank == (n + 2) // 2, rank == (9 * n + 9) // 10)
    query = select(ranked.c.part, rank, n, ranked.c.d).join(counts, counts.c.part == ranked.c.part).where(wanted)
    found: dict[int, dict] = {}
    for part, rn, count, seconds in db.session.execute(query):
        # To the millisecond: SQLite's julianday() arithmetic is some microseconds off.
        found.setdefault(int(part), {"n": int(count)})[int(rn)] = round(float(seconds), 3)
    return {key: _spread(found.get(index)) for index, key in enumerate(keys)}


def _spread(ranks: dict | None) -> Spread:
    if not ranks:
        return Spread()
    n = ranks["n"]
    middle = (ranks[(n + 1) // 2] + ranks[(n + 2) // 2]) / 2
    return Spread(n, middle / SECONDS_PER_HOUR, ranks[(9 * n + 9) // 10] / SECONDS_PER_HOUR)


def bucket_of(column, bounds: list[datetime]) -> ColumnElement:
    """The index of the bucket [bounds[i], bounds[i+1]) a time falls in (NULL outside them all)."""
    return case(*[(column < bound, index) for index, bound in enumerate(bounds[1:])], else_=None)


def count_by(column, filters: Filters) -> dict:
    """Cases of the cohort per value of `column` (a Ticket column)."""
    query = select(column, func.count(Ticket.id)).where(*cohort(filters)).group_by(column)
    return dict(db.session.execute(query).all())


def cohort_size(filters: Filters) -> int:
    return db.session.scalar(select(func.count(Ticket.id)).where(*cohort(filters))) or 0


def ratio(part: float | int | None, whole: float | int | None) -> float | None:
    """part / whole x 100, or None when there is nothing to divide by."""
    if not whole:
        return None
    return 100.0 * float(part or 0) / float(whole)


def ordered(counts: Mapping, order: Iterable) -> list[tuple]:
    """(value, count) for every value in `order`, zero when absent, then any value not in `order`."""
    order = list(order)
    rows = [(value, counts.get(value, 0)) for value in order]
    return rows + [(value, count) for value, count in counts.items() if value not in order]
