"""The Insight dashboard for supervisors: figures for a chosen period and filters, each with its
picture, its table and a CSV export."""

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone

from ticketing.auth.permissions import SUPERVISORS, roles_required
from ticketing.extensions import db
from ticketing.i18n import gettext as _
from ticketing.insight import figures, snapshots
from ticketing.insight.csv_export import csv_file
from ticketing.insight.export import csv_text, filename
from ticketing.insight.filters import read_filters
from ticketing.insight.results import display

bp = Blueprint("insight", __name__, url_prefix="/insight")


def _filters():
    return read_filters(request.args, ZoneInfo(str(get_timezone())))


@bp.route("/")
@roles_required(*SUPERVISORS)
def dashboard():
    """Every figure for the period and filters in the query string (default: the last 90 days); over
    many cases, as the scheduler last worked them out (insight/snapshots.py)."""
    form, filters = _filters()
    size = figures.cohort_size(filters, limit=snapshots.live_limit())
    query = {key: value for key, value in request.args.items() if value}
    if snapshots.in_background(size):
        report = snapshots.dashboard_report(filters)
        return render_template(
            "insight/dashboard.html",
            form=form,
            filters=filters,
            query=query,
            display=display,
            fragment=snapshots.dashboard_fragment(report),
            **snapshots.page_context(report),
        )
    results = figures.dashboard(filters)[1] if size else {}
    as_of = figures.as_of()
    db.session.commit()  # the facts of recently changed cases, brought up to date for these figures
    context = snapshots.dashboard_context(size, results, query)
    return render_template("insight/dashboard.html", form=form, filters=filters, as_of=as_of, report=None, **context)


@bp.route("/export/<figure>.csv")
@roles_required(*SUPERVISORS)
def export(figure):
    """One figure's table as CSV, for the same period and filters (over many cases, the scheduler's)."""
    if figure not in figures.FIGURES:
        abort(404)
    _form, filters = _filters()
    if snapshots.in_background(figures.cohort_size(filters, limit=snapshots.live_limit())):
        text = snapshots.dashboard_csv(snapshots.dashboard_report(filters), figure)
        if text is None:  # not worked out yet: the dashboard says so, and links the file when it is
            flash(_("The figures for this period are being worked out; download the CSV once they are shown."), "info")
            return redirect(url_for("insight.dashboard", **request.args))
    else:
        text = csv_text(figures.compute(figure, filters))
        db.session.commit()  # the facts brought up to date, as on the dashboard
    return csv_file(filename(figure, filters), text)
