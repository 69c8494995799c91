"""Customers at risk and win-back actions, early warnings and the team view (supervisors;
the owner of a win-back action sees and completes their own)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_login import current_user

from ticketing import refusals
from ticketing.auth.models import User
from ticketing.auth.permissions import STAFF, SUPERVISORS, roles_required
from ticketing.cases import early_warning as warnings
from ticketing.cases import risk, winback
from ticketing.cases.models import Customer
from ticketing.cases.queries import active_staff
from ticketing.cases.vocabulary import LABELS, WinBackState
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.forms_common import options
from ticketing.i18n import gettext as _
from ticketing.insight import risk_charts, snapshots
from ticketing.insight.csv_export import csv_file, csv_response
from ticketing.insight.risk_forms import (
    AtRiskFilterForm,
    PeriodForm,
    WinBackCancelForm,
    WinBackDoneForm,
    WinBackForm,
)

bp = Blueprint("insight_risk", __name__, url_prefix="/insight")
PAGE_SIZE = 50  # customers per page of the at-risk list (each row carries its win-back form)
PRODUCT_ROWS = 30


@bp.app_template_global()
def early_warning_alerts() -> list:
    """The current early-warning alerts, for any page that shows them (the dashboard, through
    templates/insight/_alerts.html)."""
    return snapshots.early_warning_alerts(utcnow())


def _zone() -> ZoneInfo:
    return ZoneInfo(str(get_timezone()))


def _risk_filters() -> tuple[AtRiskFilterForm, risk.Filters]:
    """The filter form from the query string; a field with a bad value shows its error and is ignored."""
    form = AtRiskFilterForm(request.args)
    form.validate()
    data = {name: field.data for name, field in form._fields.items() if not field.errors}
    return form, risk.Filters(
        tier=data.get("tier") or None, min_score=data.get("min_score") or 1, open_only=bool(data.get("open_only"))
    )


def _owner_choices() -> list:
    return options(blank=_("— choose —"), pairs=[(u.id, u.name) for u in active_staff()])()


def _win_back_form(customer_id: int, owners: list, formdata=None) -> WinBackForm:
    form = WinBackForm(prefix=f"c{customer_id}", formdata=formdata)
    form.owner.choices = owners
    if formdata is None:
        form.due_date.data = utcnow().astimezone(_zone()).date() + timedelta(days=7)
    return form


@bp.route("/at-risk")
@roles_required(*SUPERVISORS)
def at_risk():
    """Customers ranked by an explainable score, each reason shown, with a way to start winning them back."""
    return _at_risk_page(*_risk_filters())


def _page_number() -> int:
    """The page of the list asked for (?page=N, from 1); anything else is the first."""
    page = request.args.get("page", "")
    return int(page) if page.isdigit() and 1 <= int(page) <= 100_000 else 1


def _at_risk_page(filter_form, filters, failed: WinBackForm | None = None, failed_id: int | None = None):
    page = _page_number()
    # One more than a page is asked for: whether a next page exists, without counting them all.
    items, report = snapshots.at_risk(filters, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    items, more = (items or [])[:PAGE_SIZE], items is not None and len(items) > PAGE_SIZE
    owners = _owner_choices()
    forms = {
        item.customer.id: failed if item.customer.id == failed_id else _win_back_form(item.customer.id, owners)
        for item in items
        if item.win_back is None and item.win_back_barred is None
    }
    if failed is not None and failed_id not in forms:  # the customer is no longer listed: say why it failed
        for errors in failed.errors.values():
            flash(errors[0], "error")
    return render_template(
        "insight/at_risk.html",
        items=items,
        form=filter_form,
        forms=forms,
        reasons=risk.REASONS,
        recent_days=risk.RECENT_DAYS,
        page=page,
        more=more,
        first=(page - 1) * PAGE_SIZE + 1,
        page_args={key: value for key, value in request.args.items() if key != "page"},
        **snapshots.page_context(report),
    )


@bp.route("/at-risk/export.csv")
@roles_required(*SUPERVISORS)
def at_risk_csv():
    _form, filters = _risk_filters()
    name = f"customers-at-risk-{utcnow():%Y%m%d}.csv"
    table, report = snapshots.at_risk_csv(filters, _zone())
    if table is not None:
        return csv_response(name, *table)
    if report.content is None:
        flash(_("The spreadsheet of every customer at risk is being prepared; try the link again in a minute."), "info")
        return redirect(url_for("insight_risk.at_risk", **request.args))
    return csv_file(name, report.content)


@bp.route("/at-risk/<int:customer_id>/win-back", methods=["POST"])
@roles_required(*SUPERVISORS)
def start_win_back(customer_id):
    customer = db.session.get(Customer, customer_id) or abort(404)
    form = _win_back_form(customer_id, _owner_choices(), formdata=request.form)
    if not form.validate_on_submit():
        return _at_risk_page(*_risk_filters(), failed=form, failed_id=customer_id), 422
    scored = risk.risk_of(customer_id, utcnow())
    refusals.reshow(lambda error: _at_risk_page(*_risk_filters(), failed=form, failed_id=customer_id), form=form)
    winback.start_win_back(
        customer,
        current_user,
        owner=db.session.get(User, form.owner.data),
        due_date=form.due_date.data,
        plan=form.plan.data,
        risk_score=scored.score if scored else None,
        reasons=scored.reason_keys if scored else [],
    )
    db.session.commit()
    flash(_("The win-back action is started; its owner will be reminded on the due date."), "success")
    return redirect(url_for("insight_risk.win_back"))


@bp.route("/win-back")
@roles_required(*STAFF)
def win_back():
    """Open (or closed) win-back actions: all of them for supervisors, one's own for everyone else."""
    status = request.args.get("status") if request.args.get("status") in LABELS[WinBackState] else winback.OPEN
    owner_id = None if current_user.is_supervisor else current_user.id
    return render_template(
        "insight/win_back.html",
        actions=winback.list_actions(status, owner_id),
        status=status,
        today=utcnow().astimezone(_zone()).date(),
        statuses=LABELS[WinBackState],
        reasons=risk.REASON_BY_KEY,
        done_form=WinBackDoneForm(formdata=None),
        cancel_form=WinBackCancelForm(formdata=None),
    )


@bp.route("/win-back/<int:action_id>/<verb>", methods=["POST"])
@roles_required(*STAFF)
def close_win_back(action_id, verb):
    """The owner or a supervisor marks an action done with its outcome; a supervisor cancels one."""
    action = db.session.get(winback.WinBackAction, action_id)
    if (
        verb not in ("done", "cancel")
        or action is None
        or not (current_user.is_supervisor or action.owner_id == current_user.id)
    ):
        abort(404)
    form = WinBackDoneForm() if verb == "done" else WinBackCancelForm()
    if not form.validate_on_submit():
        flash(next(iter(form.errors.values()))[0], "error")
        return redirect(url_for("insight_risk.win_back"))
    refusals.reshow(lambda error: redirect(url_for("insight_risk.win_back")))  # the list, the reason on top
    if verb == "done":
        winback.complete_win_back(action, current_user, outcome=form.outcome.data, note=form.note.data)
    else:
        winback.cancel_win_back(action, current_user, reason=form.reason.data)
    db.session.commit()
    flash(_("The win-back action is updated."), "success")
    return redirect(url_for("insight_risk.win_back"))


@bp.route("/warnings")
@roles_required(*SUPERVISORS)
def warnings_page():
    """The early-warning rule, the current alerts and the weekly counts behind them."""
    now = utcnow()
    series = {kind: warnings.all_series(kind, now) for kind in warnings.KINDS}
    days = risk_charts.week_days(warnings.current_week(now), warnings.RULE.weeks)
    alerts = [s for kind in warnings.KINDS for s in series[kind] if s.check.alert]
    return render_template(
        "insight/warnings.html",
        rule=warnings.RULE,
        alerts=alerts,
        days=days,
        categories=series["category"],
        products=series["product"][:PRODUCT_ROWS],
        more_products=max(len(series["product"]) - PRODUCT_ROWS, 0),
        charts=[(s, risk_charts.warning_chart(s, days, i)) for i, s in enumerate(alerts)],
        alerts_chart=risk_charts.comparison_chart(alerts, "alerts", _("Alerts: this week against the usual level")),
        total_chart=risk_charts.total_chart(series["category"], days),
        categories_chart=risk_charts.comparison_chart(
            series["category"], "categories", _("This week against the usual level, by category")
        ),
        week_label=risk_charts.week_label,
        chance=risk_charts.chance,
    )


@bp.route("/warnings/<kind>.csv")
@roles_required(*SUPERVISORS)
def warnings_csv(kind):
    if kind not in warnings.KINDS:
        abort(404)
    now = utcnow()
    days = risk_charts.week_days(warnings.current_week(now), warnings.RULE.weeks)
    header, rows = risk_charts.warning_rows(warnings.all_series(kind, now), days)
    return csv_response(f"early-warning-{kind}-{now:%Y%m%d}.csv", header, rows)


def _team_period() -> tuple[PeriodForm, int]:
    form = PeriodForm(request.args)
    form.validate()
    return form, form.period_days()


@bp.route("/team")
@roles_required(*SUPERVISORS)
def team_page():
    """Per team member: cases closed, time to close, ratings, reviews and quality scores."""
    form, days = _team_period()
    rows, report = snapshots.team_figures(days)
    return render_template(
        "insight/team.html",
        form=form,
        rows=rows,
        days=days,
        charts=risk_charts.team_charts(rows or []),
        **snapshots.page_context(report),
    )


@bp.route("/team/export.csv")
@roles_required(*SUPERVISORS)
def team_csv():
    _form, days = _team_period()
    rows, _report = snapshots.team_figures(days)
    if rows is None:
        flash(
            _("The team's figures for this period are being worked out; download the CSV once they are shown."), "info"
        )
        return redirect(url_for("insight_risk.team_page", days=days))
    header, table = risk_charts.team_rows(rows)
    return csv_response(f"team-{days}-days-{utcnow():%Y%m%d}.csv", header, table)
