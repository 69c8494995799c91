"""The record-log browser (every case's events, filtered, exported as CSV) and the printable case report."""

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import get_timezone
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ticketing.auth.permissions import STAFF, SUPERVISORS, roles_required
from ticketing.cases import catalogue
from ticketing.cases.log_text import ACTION_LABELS
from ticketing.cases.queries import find_ticket
from ticketing.clock import utcnow
from ticketing.forms_common import PolicyForm, options
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.review import log_queries
from ticketing.review.log_export import actor_label, csv_lines
from ticketing.review.log_queries import CUSTOMER, SCHEDULER, LogFilters

bp = Blueprint("record_log", __name__, url_prefix="/record-log")


class LogFilterForm(PolicyForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
    actor = SelectField(_l("Done by"), validators=[Optional()])
    action = SelectField(
        _l("Event"),
        validators=[Optional()],
        choices=options(blank=_l("Any event"), pairs=lambda: ACTION_LABELS.items()),
    )
    category = SelectField(
        _l("Category"),
        choices=options(blank=_l("Any category"), pairs=catalogue.all_category_choices),
        validators=[Optional()],
    )
    reference = StringField(_l("Case reference"), validators=[Optional(), Length(max=20)])

    def validate_date_from(self, field):
        _plausible(field)

    def validate_date_to(self, field):
        _plausible(field)
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end of the period comes before its start."))


def _plausible(field) -> None:
    """Keep the day bounds computable: a year like 1 or 9999 would overflow in another timezone."""
    if field.data and not 1970 <= field.data.year <= 9000:
        raise ValidationError(_l("Give a date between 1970 and 9000."))


def _zone() -> ZoneInfo:
    return ZoneInfo(str(get_timezone()))


def _filters(zone: ZoneInfo) -> tuple[LogFilterForm, LogFilters]:
    """The filter form from the query string; a field with a bad value is shown with its error and ignored."""
    form = LogFilterForm(request.args)
    form.actor.choices = options(
        blank=_("Everyone"),
        pairs=[(CUSTOMER, _("Customer")), (SCHEDULER, _("Scheduler (automatic)"))]
        + [(str(user.id), user.name) for user in log_queries.staff_members()],
    )()
    form.validate()
    data = {name: field.data for name, field in form._fields.items() if not field.errors}
    since, until = log_queries.period(data.get("date_from"), data.get("date_to"), zone)
    return form, LogFilters(
        since=since,
        until=until,
        actor=data.get("actor") or None,
        action=data.get("action") or None,
        category=data.get("category") or None,
        reference=data.get("reference") or None,
    )


@bp.route("/")
@roles_required(*SUPERVISORS)
def index():
    """Every case's events, newest first, paged by keyset."""
    zone = _zone()
    form, filters = _filters(zone)
    page = log_queries.log_page(filters, current_app.config["RECORD_LOG_PAGE_SIZE"], request.args.get("after"))
    base_args = {key: value for key, value in request.args.items() if key != "after"}
    return render_template(
        "review/log.html", form=form, page=page, base_args=base_args, zone=zone, actor_label=actor_label
    )


@bp.route("/export.csv")
@roles_required(*SUPERVISORS)
def export():
    """The filtered events as a CSV file, streamed as it is read."""
    zone = _zone()
    _form, filters = _filters(zone)
    filename = f"record-log-{utcnow().astimezone(zone):%Y%m%d-%H%M}.csv"
    lines = stream_with_context(csv_lines(log_queries.all_rows(filters), zone))
    return Response(
        lines,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/cases/<reference>/report")
@roles_required(*STAFF)
def report(reference):
    """The whole case on one page, to print or save as PDF."""
    ticket = find_ticket(reference) or abort(404)
    return render_template(
        "review/report.html", actor_label=actor_label, zone=_zone(), **log_queries.case_report(ticket)
    )


@bp.route("/cases/<reference>/chain")
@roles_required(*SUPERVISORS)
def check_chain(reference):
    """Check one case's hash chain from the browser: intact up to its head, or the first broken event."""
    ticket = find_ticket(reference) or abort(404)
    result = log_queries.check_case_chain(ticket)
    return render_template("review/chain_check.html", ticket=ticket, result=result, actor_label=actor_label)
