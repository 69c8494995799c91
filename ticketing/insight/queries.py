"""SQL building blocks of the dashboard: the cohort of cases, durations, percentiles, time buckets.

The figures read the per-case facts (ticketing/cases/facts.py: one row per case, its durations and
outcomes worked out when it changed), never the step records. Everything here runs in the database,
the same on SQLite and PostgreSQL: Python only ever receives grouped results, a handful of rows per
figure, never one row per case.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flask import g
from sqlalchemy import Float, case, func, literal_column, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import CTE, ColumnElement, FunctionElement

from ticketing.cases import facts
from ticketing.cases.catalogue import Product
from ticketing.cases.facts import CaseFacts
from ticketing.cases.queries import capped_count
from ticketing.extensions import db
from ticketing.insight.filters import Filters

SECONDS_PER_HOUR = 3600.0


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
    """The cases a dashboard figure is about, as conditions on their facts (CaseFacts): opened
    (created_at) in the period, matching the filters, and not a duplicate merged into another case
    (the same complaint counts once). Brings the facts up to date first (see `current`)."""
    current()
    conditions = [
        CaseFacts.created_at >= filters.since,
        CaseFacts.created_at < filters.until,
        CaseFacts.merged.is_(False),
    ]
    if filters.category:
        conditions.append(CaseFacts.category == filters.category)
    if filters.product:  # a product's code: its cases, whatever they typed (its names and aliases)
        conditions.append(CaseFacts.product_id.in_(product_ids(filters.product)))
    if filters.channel:
        conditions.append(CaseFacts.channel == filters.channel)
    if filters.assignee_id:
        conditions.append(CaseFacts.assignee_id == filters.assignee_id)
    return conditions


def product_ids(code: str):
    """The ids a product's cases may name in their facts: its own, and those of the products merged
    into it (a merge re-points the cases in one UPDATE that Change never sees; the survivor counts them)."""
    chosen = select(Product.id).where(Product.code == code).scalar_subquery()
    return select(Product.id).where(or_(Product.id == chosen, Product.merged_into_id == chosen))


def survivor(product_id):
    """The product a case's product counts as: the one it was merged into, if any."""
    merged = aliased(Product)
    return func.coalesce(
        select(merged.merged_into_id).where(merged.id == product_id).scalar_subquery(),
        product_id,
    )


def current() -> None:
    """Bring the facts of recently changed cases up to date before a figure reads them: at most
    facts.CATCH_UP_LIMIT cases per request, so a report never waits on a backlog (the page then says
    as of when, see `as_of`). The request that caught up commits (views.dashboard)."""
    done = g.get("insight_facts_caught_up", 0)
    if done >= facts.CATCH_UP_LIMIT:
        return
    written = facts.catch_up(facts.CATCH_UP_LIMIT - done)
    if written:
        g.pop("insight_remembered", None)  # worked out from facts that have changed since
    g.insight_facts_caught_up = done + written


def remembered(name: str, filters: Filters, compute):
    """`compute()`, once per request for the same filters (several figures share one grouping), until
    the facts it read change."""
    current()
    store = g.setdefault("insight_remembered", {})
    if (name, filters) not in store:
        store[(name, filters)] = compute()
    return store[(name, filters)]


def as_of() -> datetime | None:
    """When the oldest change not yet in the figures was made; None when every change is in."""
    return facts.pending_since()


def cases(filters: Filters, *where, **columns) -> CTE:
    """The cohort's facts (and `where`) as a table of case id plus the named `columns`, read once (a
    MATERIALIZED common table expression) however many parts of a figure use it."""
    query = select(CaseFacts.ticket_id.label("id"), *(column.label(name) for name, column in columns.items()))
    return query.where(*cohort(filters), *where).cte("cases").prefix_with("MATERIALIZED")


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
    """Cases of the cohort per value of `column` (a CaseFacts column)."""
    query = select(column, func.count()).where(*cohort(filters)).group_by(column)
    return dict(db.session.execute(query).all())


def cohort_size(filters: Filters, limit: int | None = None) -> int:
    """The cases in view; with `limit`, counted no further than one past it (enough to tell a small
    period from a large one without reading a year of a large desk)."""
    return capped_count(select(CaseFacts.ticket_id).where(*cohort(filters)), limit)


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
