"""In-app notifications: the list under the bell, opening one, and how each kind reaches you."""

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select, update

from ticketing import refusals
from ticketing.auth.permissions import STAFF, roles_required
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import gettext as _
from ticketing.notify import messages, preferences
from ticketing.notify.forms import PreferencesForm
from ticketing.notify.models import Notification

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
# Where a notification about no case leads.
PAGES = {"early_warning": "insight_risk.warnings_page", "win_back_due": "insight_risk.win_back"}


def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


@bp.app_context_processor
def unread_notifications() -> dict:
    """The bell's count in every page's header."""
    return {"unread_notifications": unread_count(current_user) if current_user.is_authenticated else 0}


@bp.route("/unread")
@roles_required(*STAFF)
def unread():
    """The bell's count, asked for by every open page now and then (static/js/app.js)."""
    count = unread_count(current_user)
    response = jsonify({"unread": count, "label": _("%(n)d unread", n=count)})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@roles_required(*STAFF)
def index():
    rows = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == current_user.id)
            .order_by(Notification.id.desc())
            .limit(100)
        )
    )
    items = [(row, messages.title(row.kind, row.details), messages.body(row.kind, row.details)) for row in rows]
    return render_template("notify/index.html", items=items)


@bp.route("/<int:notification_id>", methods=["POST"])
@roles_required(*STAFF)
def open_one(notification_id):
    """Mark one read and go to its case (someone else's notification is a 404)."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    row.read_at = row.read_at or utcnow()
    db.session.commit()
    if row.ticket is not None:
        return redirect(url_for("desk.case", reference=row.ticket.reference))
    if row.kind in PAGES:
        return redirect(url_for(PAGES[row.kind]))
    return redirect(url_for("notifications.index"))


@bp.route("/read", methods=["POST"])
@roles_required(*STAFF)
def mark_all_read():
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@roles_required(*STAFF)
def edit_preferences():
    """Per kind: in the app, e-mail, both or off; for supervisors, which cases they hear about."""
    form = PreferencesForm(data=preferences.current_choices(current_user))
    if form.validate_on_submit():
        refusals.reshow(lambda error: _preferences_page(form), form=form)
        preferences.save_preferences(current_user, form.channel_choices(), form.scope.data)
        db.session.commit()
        flash(_("Your notice preferences are saved."), "success")
        return redirect(url_for("notifications.edit_preferences"))
    return _preferences_page(form), 422 if form.errors else 200


def _preferences_page(form):
    return render_template(
        "notify/preferences.html",
        form=form,
        groups=preferences.groups_for(current_user),
        explanations=preferences.EXPLANATIONS,
        mandatory=preferences.MANDATORY,
        mandatory_note=preferences.MANDATORY_NOTE,
    )
