"""Insight's long reports, worked out by the scheduler instead of the web worker.

A page over more cases than REPORT_LIVE_CASES (a long period on a large desk) asks the scheduler for
its figures (ticketing/scheduling/reports.py) and shows the latest ones with the time they were read;
a smaller one is worked out for the page, as it always was. What the scheduler works out is exactly
what the page would: the same code, in the reader's language and timezone, on the facts brought up to
date first.

- The dashboard: its figures as the page's fragment, and every figure's CSV.
- The team page: every member's figures for the period.
- Customers at risk: the whole ranking (who, score, reasons), from which each page of 50 and the
  spreadsheet of all of them are drawn.
"""

import json
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, g, render_template
from flask_babel import force_locale, get_locale
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ticketing.cases import early_warning as warnings
from ticketing.cases import facts, risk
from ticketing.cases.models import Ticket
from ticketing.cases.queries import capped_count
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.insight import charts, figures, risk_charts, team
from ticketing.insight.csv_export import csv_document
from ticketing.insight.export import csv_text
from ticketing.insight.filters import Filters, read_filters
from ticketing.insight.results import COUNT, display
from ticketing.scheduling import reports
from ticketing.scheduling.reports import Answer

DASHBOARD = "insight.dashboard"


def live_limit() -> int:
    """The most cases a page works out itself (REPORT_LIVE_CASES); sizes are counted no further."""
    return current_app.config["REPORT_LIVE_CASES"]


def in_background(size: int) -> bool:
    """Whether a report over `size` cases is the scheduler's to work out."""
    return size > live_limit()


def refresh_seconds() -> int:
    """How often a page waiting for its report looks again."""
    return current_app.config["REPORT_INTERVAL_SECONDS"] + 2


def reader() -> dict:
    """The reader's language, which a report's words and numbers are written in."""
    return {"locale": str(get_locale())}


@contextmanager
def reading_as(parameters: dict, path: str):
    """A request of the reader's own, for the scheduler: their language and timezone, the page's URL
    (for its links); the facts brought up to date, so the figures are those of the moment it began."""
    app = current_app._get_current_object()
    with app.app_context(), app.test_request_context(path, query_string=parameters.get("query", {})):
        g.reading_timezone = parameters["zone"]
        facts.catch_up(limit=None)
        db.session.commit()
        g.insight_facts_caught_up = facts.CATCH_UP_LIMIT  # nothing is left to catch up for these figures
        with force_locale(parameters["locale"]):
            yield


def dashboard_query(filters: Filters) -> dict:
    """The query string that asks for exactly these filters (the period as days, not "the last 90")."""
    query = {
        "date_from": filters.first_day.isoformat(),
        "date_to": filters.last_day.isoformat(),
        "category": filters.category,
        "product": filters.product,
        "channel": filters.channel,
        "assignee": str(filters.assignee_id) if filters.assignee_id else None,
    }
    return {key: value for key, value in query.items() if value}


def dashboard_report(filters: Filters) -> Answer:
    """The dashboard's figures for these filters, from the scheduler (asked for when missing or old)."""
    return reports.ask(DASHBOARD, {"query": dashboard_query(filters), "zone": filters.zone.key, **reader()})


def dashboard_fragment(answer: Answer) -> Markup | None:
    """The figures' part of the page, as the scheduler rendered it (escaped then)."""
    return Markup(json.loads(answer.content)["html"]) if answer.content else None


def dashboard_csv(answer: Answer, figure: str) -> str | None:
    return json.loads(answer.content)["csv"][figure] if answer.content else None


def dashboard_context(size: int, results: dict, query: dict) -> dict:
    """What the figures' fragment is drawn from (templates/insight/_dashboard_figures.html)."""
    return dict(
        size=size,
        results=results,
        figures=figures.FIGURES,
        sections=figures.SECTIONS,
        tiles=figures.TILES,
        query=query,
        chart=charts.render,
        display=display,
    )


@reports.kind(DASHBOARD)
def _dashboard(parameters: dict) -> str:
    with reading_as(parameters, "/insight/"):
        _form, filters = read_filters(MultiDict(parameters["query"]), ZoneInfo(parameters["zone"]))
        size, results = figures.dashboard(filters)
        html = render_template(
            "insight/_dashboard_figures.html", **dashboard_context(size, results, parameters["query"])
        )
        return json.dumps({"html": html, "csv": {key: csv_text(result) for key, result in results.items()}})


def page_context(answer: Answer | None) -> dict:
    """What templates/insight/_report_state.html needs to say where a report stands."""
    return dict(report=answer, report_limit=display(live_limit(), COUNT), report_refresh=refresh_seconds())


TEAM = "insight.team"


def team_figures(days: int) -> tuple[list[team.MemberFigures] | None, Answer | None]:
    """The team's figures for the last `days` days: worked out here over a few cases, else the
    scheduler's (None while none is ready), with where that report stands."""
    since, until = team.period(days, utcnow())
    if not in_background(team.closed_count(since, until, limit=live_limit())):
        return team.team_figures(since, until), None
    answer = reports.ask(TEAM, {"days": days})
    return (team.from_plain(json.loads(answer.content)) if answer.content else None), answer


@reports.kind(TEAM)
def _team(parameters: dict) -> str:
    return json.dumps(team.as_plain(team.team_figures(*team.period(parameters["days"], utcnow()))))


AT_RISK, AT_RISK_CSV = "insight.at_risk", "insight.at_risk_csv"


def _risk_parameters(filters: risk.Filters) -> dict:
    return {"tier": filters.tier, "min_score": filters.min_score, "open_only": filters.open_only}


def _risk_filters(parameters: dict) -> risk.Filters:
    return risk.Filters(tier=parameters["tier"], min_score=parameters["min_score"], open_only=parameters["open_only"])


def at_risk(filters: risk.Filters, limit: int, offset: int) -> tuple[list[risk.AtRisk] | None, Answer | None]:
    """A page of the customers at risk: ranked here over a few cases, else drawn from the scheduler's
    ranking (None while none is ready), with where that report stands."""
    now = utcnow()
    if not in_background(risk.cohort_size(now, limit=live_limit())):
        return risk.at_risk(now, filters, limit=limit, offset=offset), None
    answer = reports.ask(AT_RISK, _risk_parameters(filters))
    if answer.content is None:
        return None, answer
    lines = answer.content.splitlines()[offset : offset + limit]
    return risk.from_plain([json.loads(line) for line in lines]), answer


@reports.kind(AT_RISK)
def _at_risk(parameters: dict) -> str:
    """The whole ranking, one customer a line (a page reads only its own lines)."""
    items = risk.at_risk(utcnow(), _risk_filters(parameters))
    return "\n".join(json.dumps(risk.as_plain(item), ensure_ascii=False) for item in items)


def at_risk_csv(filters: risk.Filters, zone: ZoneInfo) -> tuple[tuple[list, list] | None, Answer | None]:
    """The spreadsheet of every customer at risk: (header, rows) made here over a few cases; else the
    scheduler's file (None while none is ready) and where it stands."""
    now = utcnow()
    if not in_background(risk.cohort_size(now, limit=live_limit())):
        return risk_charts.at_risk_rows(risk.at_risk(now, filters), zone), None
    return None, reports.ask(AT_RISK_CSV, {**_risk_parameters(filters), "zone": zone.key, **reader()})


@reports.kind(AT_RISK_CSV)
def _at_risk_csv(parameters: dict) -> str:
    with reading_as(parameters, "/insight/at-risk/export.csv"):
        zone = ZoneInfo(parameters["zone"])
        header, rows = risk_charts.at_risk_rows(risk.at_risk(utcnow(), _risk_filters(parameters)), zone)
        return csv_document(header, rows)


ALERTS = "insight.alerts"


def early_warning_alerts(now: datetime) -> list[warnings.Series]:
    """This week's early-warning alerts, shown on every Insight page: counted here over a few cases,
    else the scheduler's (none shown while they are worked out). Nine weeks of a large desk's cases
    are tens of thousands: 80 ms on every page at 1M cases."""
    window = now - timedelta(weeks=warnings.RULE.weeks + 1)
    recent = select(Ticket.id).where(Ticket.created_at >= window)
    if not in_background(capped_count(recent, live_limit())):
        return warnings.current_alerts(now)
    answer = reports.ask(ALERTS, {"week": warnings.current_week(now).isoformat()})
    if answer.content is None:
        return []
    return [
        warnings.Series(kind, value, counts, warnings.Check(**check))
        for kind, value, counts, check in json.loads(answer.content)
    ]


@reports.kind(ALERTS)
def _alerts(parameters: dict) -> str:
    alerts = warnings.current_alerts(utcnow())
    return json.dumps([[s.kind, s.value, s.counts, asdict(s.check)] for s in alerts], ensure_ascii=False)
