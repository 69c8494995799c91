"""The security log page, for administrators: every entry, newest first, filtered by event, person and
period, fifty a page, and the same entries as a CSV file (whose download is itself an entry)."""

import csv
from datetime import datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import get_timezone
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from ticketing import validation
from ticketing.admin.security_log_text import detail_lines, subject_text
from ticketing.auth import security_log
from ticketing.auth.models import User
from ticketing.auth.permissions import ADMINS, roles_required
from ticketing.auth.security_log import Kind, SecurityEntry
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.forms_common import DATE_RANGE, PolicyForm, options
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.labelled import label_for
from ticketing.spreadsheet import BOM, escape_cell

bp = Blueprint("security_log", __name__, url_prefix="/admin/security-log")
PAGE_SIZE = 50


class SecurityLogFilterForm(PolicyForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    kind = SelectField(_l("Event"), validators=[Optional()], choices=options(Kind, blank=_l("Any event")))
    person = SelectField(_l("Person"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])

    def validate_date_from(self, field):
        if field.data and not validation.date_in_range(field.data):
            raise ValidationError(DATE_RANGE)

    def validate_date_to(self, field):
        self.validate_date_from(field)
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end of the period comes before its start."))


@bp.get("/")
@roles_required(*ADMINS)
def index():
    form, conditions = _filters()
    before = validation.parse_id(request.args.get("before"))
    query = _entries(conditions).order_by(SecurityEntry.seq.desc()).limit(PAGE_SIZE + 1)
    if before is not None:
        query = query.where(SecurityEntry.seq < before)
    rows = list(db.session.scalars(query))
    return render_template(
        "admin/security_log.html",
        form=form,
        rows=rows[:PAGE_SIZE],
        older=rows[PAGE_SIZE - 1].seq if len(rows) > PAGE_SIZE else None,
        base_args={key: value for key, value in request.args.items() if key != "before"},
        names=_names(),
        subject_text=subject_text,
        detail_lines=detail_lines,
        kind_label=lambda kind: label_for(Kind, kind),
    )


@bp.get("/export.csv")
@roles_required(*ADMINS)
def export():
    """The filtered entries, oldest first, streamed; the download is recorded (with its filters) first."""
    form, conditions = _filters()
    filters = {name: request.args[name] for name in form._fields if request.args.get(name) and not form[name].errors}
    security_log.record(Kind.LOG_EXPORTED, actor=current_user, details={"filters": urlencode(filters)})
    db.session.commit()
    zone = ZoneInfo(str(get_timezone()))
    query = _entries(conditions).order_by(SecurityEntry.seq).execution_options(yield_per=1000)
    filename = f"security-log-{utcnow().astimezone(zone):%Y%m%d-%H%M}.csv"
    return Response(
        stream_with_context(_csv_lines(query, zone, _names())),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _filters() -> tuple[SecurityLogFilterForm, list]:
    """The filter form from the query string; a field with a bad value shows its error and is ignored."""
    form = SecurityLogFilterForm(request.args)
    form.person.choices = options(blank=_("Everyone"), pairs=[(str(i), name) for i, name in _names().items()])()
    form.validate()
    data = {name: field.data for name, field in form._fields.items() if not field.errors}
    zone = ZoneInfo(str(get_timezone()))
    conditions = []
    if data.get("kind"):
        conditions.append(SecurityEntry.kind == data["kind"])
    if data.get("person"):
        person = int(data["person"])
        conditions.append(or_(SecurityEntry.actor_id == person, SecurityEntry.account_id == person))
    if data.get("date_from"):
        conditions.append(SecurityEntry.created_at >= _midnight(data["date_from"], zone))
    if data.get("date_to"):
        conditions.append(SecurityEntry.created_at < _midnight(data["date_to"] + timedelta(days=1), zone))
    return form, conditions


def _midnight(day, zone: ZoneInfo) -> datetime:
    """The start of `day` in the reader's timezone (the filters' days are theirs, the log's times UTC)."""
    return datetime.combine(day, time.min, tzinfo=zone)


def _entries(conditions: list):
    return select(SecurityEntry).where(*conditions)


def _names() -> dict[int, str]:
    """Every staff account's id and name, for the person filter and the entries' subjects."""
    return {row.id: row.name for row in db.session.execute(select(User.id, User.name).order_by(User.name))}


class _Line:
    """A file whose write() hands the line back, so csv.writer yields lines one at a time."""

    def write(self, line: str) -> str:
        return line


def _csv_lines(query, zone: ZoneInfo, names: dict[int, str]):
    """Run as the response is sent (the query too, so its rows belong to the session of that moment)."""
    writer = csv.writer(_Line())
    yield BOM
    yield writer.writerow(
        [_("No."), _("Time (UTC, ISO 8601)"), _("Time (%(zone)s)", zone=str(zone)), _("Event"), _("Done by")]
        + [_("About"), _("From (IP address)"), _("Details"), _("Key"), _("Seal")]
    )
    for entry in db.session.scalars(query):
        cells = (
            entry.seq,
            entry.created_at.isoformat(),
            entry.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            label_for(Kind, entry.kind),
            entry.actor_name,
            subject_text(entry, names),
            entry.ip,
            "; ".join(detail_lines(entry)),
            entry.key_id,
            entry.hash,
        )
        yield writer.writerow([escape_cell(cell) for cell in cells])
