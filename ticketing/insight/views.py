"""The Insight dashboard for supervisors: figures for a chosen period and filters, each with its
picture, its table and a CSV export."""

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import get_timezone

from ticketing.auth.permissions import SUPERVISORS, roles_required
from ticketing.extensions import db
from ticketing.insight import charts, figures
from ticketing.insight.export import csv_text, filename
from ticketing.insight.filters import read_filters
from ticketing.insight.results import display

bp = Blueprint("insight", __name__, url_prefix="/insight")


def _filters():
    return read_filters(request.args, ZoneInfo(str(get_timezone())))


@bp.route("/")
@roles_required(*SUPERVISORS)
def dashboard():
    """Every figure for the period and filters in the query string (default: the last 90 days)."""
    form, filters = _filters()
    size, results = figures.dashboard(filters)
    as_of = figures.as_of()
    db.session.commit()  # the facts of recently changed cases, brought up to date for these figures
    query = {key: value for key, value in request.args.items() if value}
    return render_template(
        "insight/dashboard.html",
        form=form,
        filters=filters,
        size=size,
        results=results,
        figures=figures.FIGURES,
        sections=figures.SECTIONS,
        tiles=figures.TILES,
        query=query,
        as_of=as_of,
        chart=charts.render,
        display=display,
    )


@bp.route("/export/<figure>.csv")
@roles_required(*SUPERVISORS)
def export(figure):
    """One figure's table as CSV, for the same period and filters."""
    if figure not in figures.FIGURES:
        abort(404)
    _form, filters = _filters()
    result = figures.compute(figure, filters)
    db.session.commit()  # the facts brought up to date, as on the dashboard
    return Response(
        csv_text(result),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename(figure, filters)}"'},
    )
