"""Where complaints come from: cases opened over time, by category and by channel."""

from datetime import date, timedelta

from sqlalchemy import func, select

from ticketing.cases import catalogue
from ticketing.cases.facts import CaseFacts
from ticketing.cases.vocabulary import Channel
from ticketing.extensions import db
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.insight.charts import BARS, COLUMNS, Bar, Chart
from ticketing.insight.filters import Filters, midnight
from ticketing.insight.queries import bucket_of, cohort, count_by, ordered, ratio
from ticketing.insight.results import COUNT, DAY, MONTH, PERCENT, TEXT, Column, Result, Stat, display, short_day

DAILY_UP_TO, WEEKLY_UP_TO = 45, 366  # days in the period
UNIT_NOTES = {
    "day": _l("One column per day."),
    "week": _l("One column per 7 days from the start of the period."),
    "month": _l("One column per calendar month."),
}


def periods(filters: Filters) -> tuple[str, list[date]]:
    """How the period is cut ("day", "week" of 7 days from its first day, or calendar "month") and
    the first day of each piece."""
    days = (filters.last_day - filters.first_day).days + 1
    if days <= DAILY_UP_TO:
        return "day", [filters.first_day + timedelta(days=n) for n in range(days)]
    if days <= WEEKLY_UP_TO:
        return "week", [filters.first_day + timedelta(days=n) for n in range(0, days, 7)]
    starts, day = [filters.first_day], filters.first_day
    while True:
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        if day > filters.last_day:
            return "month", starts
        starts.append(day)


def _period_words(unit: str, start: date, end: date) -> str:
    if unit == "day":
        return display(start, DAY)
    if unit == "week":
        return _("%(start)s to %(end)s", start=display(start, DAY), end=display(end, DAY))
    return display(start, MONTH)


def volume(filters: Filters) -> Result:
    """Cases opened in each day, week or month of the period, by when they were opened in the reader's
    timezone (the bucket is found in SQL by comparing with the bucket boundaries)."""
    unit, starts = periods(filters)
    bounds = [midnight(start, filters.zone) for start in starts] + [filters.until]
    bucket = bucket_of(CaseFacts.created_at, bounds).label("bucket")
    query = select(bucket, func.count()).where(*cohort(filters)).group_by(bucket)
    counts = {index: count for index, count in db.session.execute(query) if index is not None}
    columns = [Column(_l("Period from"), MONTH if unit == "month" else DAY), Column(_l("Cases opened"), COUNT)]
    if not counts:
        return Result(columns, [])
    ends = [start - timedelta(days=1) for start in starts[1:]] + [filters.last_day]
    rows = [[start, counts.get(index, 0)] for index, start in enumerate(starts)]
    label = (lambda day: display(day, MONTH)) if unit == "month" else short_day
    chart = Chart(
        COLUMNS,
        [
            Bar(label(start), (count,), (display(count, COUNT),), _period_words(unit, start, end))
            for (start, count), end in zip(rows, ends)
        ],
    )
    return Result(
        columns,
        rows,
        chart,
        headline={"total": Stat(_l("Cases opened"), sum(counts.values()), COUNT)},
        notes=[UNIT_NOTES[unit]],
    )


def _shares(counts: dict, order, label, first: Column) -> Result:
    """Cases per value, largest first, with each value's share of the cohort."""
    total = sum(counts.values())
    columns = [first, Column(_l("Number of cases"), COUNT), Column(_l("Share"), PERCENT)]
    if not total:
        return Result(columns, [])
    rows = sorted(
        ([label(value), count, ratio(count, total)] for value, count in ordered(counts, order)), key=lambda row: -row[1]
    )
    chart = Chart(
        BARS,
        [Bar(name, (count,), (f"{display(count, COUNT)} ({display(share, PERCENT)})",)) for name, count, share in rows],
    )
    return Result(columns, rows, chart)


def categories(filters: Filters) -> Result:
    """Cases opened in the period per category (Ticket.category): every active category of the
    catalogue, and a retired one when cases of the period have it."""
    return _shares(
        count_by(CaseFacts.category, filters),
        catalogue.category_codes(),
        lambda value: catalogue.category_label(value) if value else _("Not categorised"),
        Column(_l("Category"), TEXT),
    )


def channels(filters: Filters) -> Result:
    """Cases opened in the period per channel the complaint came in by (Ticket.channel)."""
    return _shares(
        count_by(CaseFacts.channel, filters), list(Channel), lambda value: value.label, Column(_l("Channel"), TEXT)
    )
