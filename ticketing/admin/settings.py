"""The settings page: the desk's own rules by section, each saved by the roles that own it, every
change kept (the history page), and open cases' running deadlines timed again on request."""

from babel.lists import format_list
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select

from ticketing import refusals, validation
from ticketing.admin.calendar_forms import WEEKDAYS, CalendarForm, CalendarImportForm
from ticketing.admin.settings_forms import (
    DeadlinesForm,
    FourEyesForm,
    GuaranteeForm,
    MoneyForm,
    RecomputeForm,
    SessionsForm,
    TimingForm,
)
from ticketing.admin.settings_text import describe, editors, weekday_names
from ticketing.auth.models import User
from ticketing.auth.permissions import SUPERVISORS, roles_required
from ticketing.cases import settings
from ticketing.cases.calendar_import import MAX_BYTES, add_dates_from_ics
from ticketing.cases.services.recompute import recompute_open_deadlines
from ticketing.cases.settings import SettingChange
from ticketing.cases.settings_labels import SECTION_LABELS, key_label
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import gettext as _

bp = Blueprint("settings_admin", __name__, url_prefix="/admin/settings")
FORMS = {
    form.section: form
    for form in (DeadlinesForm, CalendarForm, MoneyForm, FourEyesForm, GuaranteeForm, TimingForm, SessionsForm)
}
HISTORY_PAGE = 50


@bp.get("/")
@roles_required(*SUPERVISORS)
def index():
    return _page()


@bp.post("/sections/<section>")
@roles_required(*SUPERVISORS)
def save(section):
    """One section's form; a section the user may not change (money, for supervisors) is a 403."""
    if section not in FORMS:
        abort(404)
    if not _may_change(section):
        abort(403)
    form = FORMS[section](prefix=section)
    if not form.validate_on_submit():
        return _page(**{section: form}), 422
    refusals.reshow(lambda error: _page(**{section: form}), form=form, field=form.submit)
    changed = settings.save(current_user, form.changes(), utcnow())
    db.session.commit()
    _say_saved(changed)
    return redirect(url_for("settings_admin.index", _anchor=section))


@bp.post("/calendar/import")
@roles_required(*SUPERVISORS)
def import_calendar():
    form = CalendarImportForm(prefix="import")
    if not form.validate_on_submit():
        return _page(import_form=form), 422
    refusals.reshow(lambda error: _page(import_form=form), form=form, field=form.file)
    added = add_dates_from_ics(current_user, form.file.data.read(MAX_BYTES + 1), form.kind.data, utcnow())
    db.session.commit()
    if added:
        flash(_("Dates added from the file: %(n)d.", n=len(added)), "success")
    else:
        flash(_("Nothing changed: every date of the file was there already."), "info")
    return redirect(url_for("settings_admin.index", _anchor="calendar"))


@bp.post("/recompute")
@roles_required(*SUPERVISORS)
def recompute():
    form = RecomputeForm(prefix="recompute")
    if not form.validate_on_submit():
        return _page(recompute_form=form), 422
    moved = recompute_open_deadlines(current_user, utcnow())
    db.session.commit()
    flash(_("Deadlines recomputed: open cases whose deadlines moved: %(n)d.", n=moved), "success")
    return redirect(url_for("settings_admin.index", _anchor="recompute"))


@bp.get("/history")
@roles_required(*SUPERVISORS)
def history():
    page = validation.parse_id(request.args.get("page", "1")) or 1
    rows = _changes(offset=(page - 1) * HISTORY_PAGE, limit=HISTORY_PAGE + 1)
    return render_template(
        "admin/settings_history.html",
        rows=rows[:HISTORY_PAGE],
        page=page,
        more=len(rows) > HISTORY_PAGE,
        key_label=key_label,
        describe=describe,
    )


def _may_change(section: str) -> bool:
    return current_user.role in settings.SECTIONS[section]


def _say_saved(changed: list[str]) -> None:
    if not changed:
        flash(_("Nothing changed."), "info")
        return
    names = format_list([str(key_label(key)) for key in changed], locale=get_locale())
    flash(_("Saved: %(settings)s.", settings=names), "success")


def _page(import_form=None, recompute_form=None, **posted):
    values = settings.raw_values()
    forms = {name: posted.get(name) or form.from_values(values) for name, form in FORMS.items()}
    return render_template(
        "admin/settings.html",
        forms=forms,
        values=values,
        may_change={name: _may_change(name) for name in FORMS},
        editors=editors,
        section_labels=SECTION_LABELS,
        last=_last_changes(),
        import_form=import_form or CalendarImportForm(formdata=None, prefix="import"),
        recompute_form=recompute_form or RecomputeForm(formdata=None, prefix="recompute"),
        keys_of={name: [key for key, owner in settings.KEYS.items() if owner == name] for name in FORMS},
        weekdays=WEEKDAYS,
        weekday_names=weekday_names(),
        describe=describe,
        key_label=key_label,
    )


def _changes(*, keys=None, offset: int = 0, limit: int = HISTORY_PAGE) -> list:
    """(change, who) rows, newest first."""
    query = (
        select(SettingChange, User.name)
        .outerjoin(User, User.id == SettingChange.changed_by_id)
        .order_by(SettingChange.changed_at.desc(), SettingChange.id.desc())
    )
    if keys is not None:
        query = query.where(SettingChange.key.in_(keys))
    return list(db.session.execute(query.offset(offset).limit(limit)))


def _last_changes() -> dict:
    """section -> its latest (change, who), or None."""
    latest = {}
    for section in FORMS:
        keys = [key for key, owner in settings.KEYS.items() if owner == section]
        found = _changes(keys=keys, limit=1)
        latest[section] = found[0] if found else None
    return latest
