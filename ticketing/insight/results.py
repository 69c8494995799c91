"""What a figure gives back: a table (the numbers behind the picture), its chart and its key numbers,
and how each kind of cell reads in the reader's language."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from babel.dates import format_skeleton
from flask_babel import format_currency, format_decimal, format_percent, get_locale

from ticketing.i18n import day, day_month
from ticketing.i18n import gettext as _

TEXT, COUNT, PERCENT, HOURS, SCORE, POINTS, MONEY, DAY, MONTH = (
    "text",
    "count",
    "percent",
    "hours",
    "score",
    "points",
    "money",
    "day",
    "month",
)


@dataclass(frozen=True)
class Column:
    label: Any  # a (lazy) translated header
    kind: str = TEXT


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Stat:
    """A key number shown big: what it is, its value (None: cannot be computed) and its kind."""

    label: Any
    value: Any
    kind: str


@dataclass
class Result:
    """One figure's numbers. `rows` hold raw values (None = not measurable), one list per row;
    `headline` names the few numbers the page shows big; `chart` is a charts.Chart or None."""

    columns: list[Column]
    rows: list[list]
    chart: Any = None
    headline: dict[str, Stat] = field(default_factory=dict)
    notes: list[Any] = field(default_factory=list)  # extra lines under the chart

    @property
    def empty(self) -> bool:
        return not self.rows


def display(value, kind: str) -> str:
    """A cell as the reader reads it: localised numbers and dates; an empty value as a dash."""
    if value is None:
        return "–"
    if kind == COUNT:
        return format_decimal(value, "#,##0")
    if kind == PERCENT:
        return format_percent(float(value) / 100, "#,##0.0%")
    if kind == HOURS:
        return _("%(hours)s h", hours=format_decimal(value, "#,##0.0"))
    if kind == SCORE:
        return format_decimal(value, "#,##0.00")
    if kind == POINTS:
        return format_decimal(value, "#,##0.#")
    if kind == MONEY:
        return format_currency(value.amount, value.currency)
    if kind == DAY:
        return day(value)
    if kind == MONTH:
        return format_skeleton("yMMM", value, locale=get_locale())
    return str(value)


def short_day(value: date) -> str:
    """A day without its year, for axis labels."""
    return day_month(value)


def plain(value, kind: str) -> str:
    """A cell for a spreadsheet: numbers without grouping, a dot for decimals, dates in ISO 8601."""
    if value is None:
        return ""
    if kind in (PERCENT, HOURS, SCORE, POINTS):
        return f"{float(value):.2f}"
    if kind == MONEY:
        return f"{value.amount:.2f}"
    if kind in (DAY, MONTH):
        return value.isoformat()
    return str(value)
