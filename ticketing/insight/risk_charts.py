"""The pictures and tables of the early-warning and team pages, in the reader's language.
The pictures are drawn by the dashboard's SVG charts (charts.py)."""

from datetime import date, timedelta

from ticketing.cases import catalogue
from ticketing.cases.early_warning import Series
from ticketing.cases.risk import REASONS
from ticketing.i18n import day
from ticketing.i18n import gettext as _
from ticketing.insight import charts
from ticketing.insight.charts import Bar, Chart
from ticketing.insight.results import COUNT, HOURS, PERCENT, SCORE, display, short_day
from ticketing.insight.team import MemberFigures


def week_days(this_week: date, weeks: int) -> list[date]:
    """The Monday of each week of a series, oldest first, the current week last."""
    return [this_week - timedelta(weeks=weeks - index) for index in range(weeks + 1)]


def chance(p_value: float) -> str:
    """A p-value as the page shows it: four decimals, or "< 0.0001"."""
    return "< 0.0001" if p_value < 0.0001 else f"{p_value:.4f}"


def week_label(day: date, last: bool) -> str:
    return _("This week") if last else short_day(day)


def weekly_chart(counts: list[int], days: list[date], chart_id: str, title: str):
    """Columns of complaints per week, oldest first, the current week (so far) last."""
    bars = [
        Bar(
            week_label(day, index == len(days) - 1),
            (count,),
            (display(count, COUNT),),
            _("Week of %(day)s", day=display(day, "day")),
        )
        for index, (day, count) in enumerate(zip(days, counts))
    ]
    return charts.render(Chart(charts.COLUMNS, bars), chart_id, title)


def warning_chart(series: Series, days: list[date], index: int):
    return weekly_chart(series.counts, days, f"warning-{index}", _("Complaints per week: %(what)s", what=series.label))


def comparison_chart(series_list: list[Series], chart_id: str, title: str):
    """Each series: this week's count beside the average of the weeks before."""
    bars = [
        Bar(
            s.label,
            (s.check.count, s.check.baseline),
            (display(s.check.count, COUNT), display(s.check.baseline, SCORE)),
        )
        for s in series_list
    ]
    weeks = len(series_list[0].history) if series_list else 0
    chart = Chart(charts.BARS, bars, series=(_("This week"), _("Average of the previous %(n)d weeks", n=weeks)))
    return charts.render(chart, chart_id, title)


def total_chart(all_categories: list[Series], days: list[date]):
    totals = [sum(series.counts[index] for series in all_categories) for index in range(len(days))]
    return weekly_chart(totals, days, "weekly-total", _("Complaints per week, all categories"))


def team_charts(rows: list[MemberFigures]) -> list[tuple[str, object]]:
    """(title, picture) of each team chart; the picture is None when nobody has a value to draw."""

    def chart(chart_id, title, values, kind, axis_max=None):
        if not any(values):
            return title, None
        bars = [Bar(row.user.name, (value,), (display(value, kind),)) for row, value in zip(rows, values)]
        return title, charts.render(Chart(charts.BARS, bars, axis_max=axis_max, axis_kind=kind), chart_id, title)

    return [
        chart("team-closed", _("Cases closed per team member"), [row.closed for row in rows], COUNT),
        chart("team-median", _("Median hours from intake to closing"), [row.median_hours for row in rows], HOURS),
        chart("team-rating", _("Average customer rating (1-5)"), [row.average_rating for row in rows], SCORE, 5),
        chart("team-quality", _("Average quality score"), [row.average_quality for row in rows], PERCENT, 100),
    ]


def warning_rows(series_list: list[Series], days: list[date]) -> tuple[list[str], list[list]]:
    """The CSV of a kind of series: one row each, a column per week."""
    header = (
        [_("Kind"), _("Value"), _("Name")]
        + [day.isoformat() for day in days]
        + [_("Average of the previous weeks"), _("This week"), _("Chance of so many (p)"), _("Alert")]
    )
    rows = [
        [
            s.kind,
            s.value,
            s.label,
            *s.counts,
            round(s.check.baseline, 3),
            s.check.count,
            f"{s.check.p_value:.6f}",
            _("yes") if s.check.alert else _("no"),
        ]
        for s in series_list
    ]
    return header, rows


def team_rows(rows: list[MemberFigures]) -> tuple[list[str], list[list]]:
    header = [
        _("Team member"),
        _("Email"),
        _("Cases closed"),
        _("Open now"),
        _("Median hours to close"),
        _("Ratings"),
        _("Average rating (1-5)"),
        _("Reviews approved"),
        _("Reviews returned"),
        _("Cases scored"),
        _("Average quality score (%)"),
    ]
    blank = lambda value, digits=1: "" if value is None else round(value, digits)  # noqa: E731
    return header, [
        [
            r.user.name,
            r.user.email,
            r.closed,
            r.open_now,
            blank(r.median_hours),
            r.ratings,
            blank(r.average_rating, 2),
            r.approved,
            r.returned,
            r.scored,
            blank(r.average_quality),
        ]
        for r in rows
    ]


def _reason_text(reason, item, texts: dict) -> str:
    """'Judged lost at the follow-up (+5): Negligent … · Unkept promises …'; other reasons without the colon.
    `texts` holds each reason's label and points, translated once for the whole file."""
    text = texts[reason.key]
    return f"{text}: {item.churn}" if reason.key in ("lost", "at_risk") and item.churn else text


def at_risk_rows(items, zone) -> tuple[list[str], list[list]]:
    header = [
        _("Customer"),
        _("Email"),
        _("Phone"),
        _("Value tier"),
        _("Score"),
        _("Reasons"),
        _("Open cases"),
        _("Complaints in 90 days"),
        _("Latest case (%(zone)s)", zone=str(zone)),
        _("Win-back action"),
    ]
    texts = {reason.key: f"{reason.label} (+{reason.points})" for reason in REASONS}
    tiers = {tier: catalogue.tier_label(tier) for tier in {item.customer.value_tier for item in items}}
    rows = [
        [
            item.customer.name,
            item.customer.email or "",
            item.customer.phone or "",
            tiers[item.customer.value_tier],
            item.score,
            "; ".join(_reason_text(reason, item, texts) for reason in item.reasons),
            item.open_cases,
            item.recent_cases,
            item.last_case_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            _("open, due %(date)s", date=day(item.win_back.due_date)) if item.win_back else "",
        ]
        for item in items
    ]
    return header, rows
