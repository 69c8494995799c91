"""The queue's own actions: saved views, bulk reassign and handing an absent colleague's cases over."""

from urllib.parse import parse_qsl

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ticketing import refusals
from ticketing.auth.models import User
from ticketing.auth.permissions import STAFF, SUPERVISORS, roles_required
from ticketing.cases import saved_views, services
from ticketing.cases.hand_over import chosen_assignee, hand_over_choices
from ticketing.cases.models import Ticket
from ticketing.cases.queries import active_staff, open_cases_of
from ticketing.desk.forms import BulkReassignForm, HandOverForm, QueueFilterForm, SaveViewForm
from ticketing.extensions import db
from ticketing.forms_common import options
from ticketing.i18n import gettext as _
from ticketing.redirects import local_path_or
from ticketing.validation import parse_id

bp = Blueprint("queues", __name__, url_prefix="/queue")
MAX_PICKED = 200  # cases in one bulk reassignment (a page of the queue is 25)


def _back(form) -> str:
    return local_path_or(form.next.data, url_for("desk.queue", view="team"))


@bp.route("/reassign", methods=["POST"])
@roles_required(*SUPERVISORS)
def reassign():
    """The ticked cases of the team queue to one colleague (or back to the queue), logged per case."""
    form = BulkReassignForm()
    form.assignee.choices = hand_over_choices()
    picked = dict(form.picked())
    if not form.validate_on_submit() or not picked or len(picked) > MAX_PICKED:
        flash(
            _("Tick the cases to reassign (at most %(max)d at once) and choose who takes them.", max=MAX_PICKED),
            "error",
        )
        return redirect(_back(form))
    refusals.reshow(lambda error: redirect(_back(form)))
    assignee = chosen_assignee(form.assignee.data)
    tickets = db.session.scalars(select(Ticket).where(Ticket.id.in_(picked)).order_by(Ticket.id)).all()
    moved = services.hand_over([(ticket, picked[ticket.id]) for ticket in tickets], current_user, assignee=assignee)
    db.session.commit()
    flash(_moved_message(moved, assignee), "success")
    return redirect(_back(form))


@bp.route("/hand-over", methods=["POST"])
@roles_required(*SUPERVISORS)
def hand_over():
    """Every open case a colleague holds (away, or leaving) to another, or back to the team queue."""
    form = HandOverForm()
    holder = db.session.get(User, parse_id(form.holder.data or "") or 0)
    form.assignee.choices = hand_over_choices(leaving=holder.id if holder else None)
    if holder is None or not form.validate_on_submit():
        flash(_("Choose who takes the open cases."), "error")
        return redirect(_back(form))
    refusals.reshow(lambda error: redirect(_back(form)))
    assignee = chosen_assignee(form.assignee.data, leaving=holder.id)
    moved = services.hand_over([(ticket, None) for ticket in open_cases_of(holder.id)], current_user, assignee=assignee)
    db.session.commit()
    flash(_moved_message(moved, assignee), "success")
    return redirect(_back(form))


def _moved_message(moved, assignee) -> str:
    if assignee is None:
        return ngettext(
            "%(num)d case is back in the team queue.", "%(num)d cases are back in the team queue.", len(moved)
        )
    return ngettext(
        "%(num)d case is reassigned to %(name)s.",
        "%(num)d cases are reassigned to %(name)s.",
        len(moved),
        name=assignee.name,
    )


@bp.route("/views", methods=["POST"])
@roles_required(*STAFF)
def save_view():
    """Keep the queue's filters in force under a name (the same name again replaces them)."""
    form = SaveViewForm()
    filters = valid_filters(form.query.data or "")
    back = url_for("desk.queue", **filters)
    if not form.validate_on_submit():
        flash(form.name.errors[0] if form.name.errors else _("The view could not be saved: reload the page."), "error")
        return redirect(back)
    refusals.reshow(lambda error: redirect(back))
    replaced = saved_views.save_view(current_user, form.name.data, filters)
    db.session.commit()
    name = " ".join(form.name.data.split())
    flash(
        _("The view “%(name)s” is updated.", name=name) if replaced else _("The view “%(name)s” is saved.", name=name),
        "success",
    )
    return redirect(back)


@bp.route("/views/<int:view_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def delete_view(view_id):
    form = SaveViewForm()
    form.name.validators = []  # deleting needs no name, only the CSRF token
    if not form.validate_on_submit():
        abort(400)
    view = saved_views.delete_view(current_user, view_id) or abort(404)
    db.session.commit()
    flash(_("The view “%(name)s” is deleted.", name=view.name), "success")
    return redirect(url_for("desk.queue", **view.filters))


def valid_filters(query: str) -> dict:
    """The queue filters of a query string, as the queue's form accepts them (others dropped)."""
    form = QueueFilterForm(MultiDict(parse_qsl(query[:2000])))
    form.assignee.choices = options(pairs=[("none", "")] + [(str(user.id), "") for user in active_staff()])()
    form.validate()
    return chosen_filters(form)


def chosen_filters(form: QueueFilterForm) -> dict:
    """The filters a validated queue form was given (not its defaults), as a view keeps them."""
    kept = {}
    for name in saved_views.FILTER_NAMES:
        field = form._fields[name]
        if not field.errors and field.data not in (None, "", False) and field.raw_data:
            kept[name] = "y" if field.data is True else str(field.data)
    return kept
