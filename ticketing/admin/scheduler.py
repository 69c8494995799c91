"""The scheduler's admin page: jobs and their last run, reminders by status, retrying failures."""

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import func, select

from ticketing.admin.scheduler_text import result_text
from ticketing.auth.permissions import SUPERVISORS, roles_required
from ticketing.cases.models import Reminder
from ticketing.cases.vocabulary import ReminderStatus
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.notify.messages import KIND_LABELS, STATUS_LABELS
from ticketing.scheduling.dispatcher import retry_failed
from ticketing.scheduling.models import Delivery, JobRun
from ticketing.scheduling.runner import job_table

bp = Blueprint("scheduler_admin", __name__, url_prefix="/admin/scheduler")
JOB_LABELS = {
    "dispatch": _l("Dispatch due reminders"),
    "daily_digest": _l("Queue the daily digests"),
    "early_warning": _l("Check for early warnings"),
    "audit_anchor": _l("Anchor the record log outside the database"),
    "reminder_retention": _l("Remove old reminder rows"),
    "insight_facts": _l("Bring the Insight figures up to date"),
    "reports": _l("Work out the long Insight reports asked for"),
    "mail_intake": _l("Read the intake mailboxes"),
}


@bp.route("/")
@roles_required(*SUPERVISORS)
def index():
    now = utcnow()
    counts = dict(db.session.execute(select(Reminder.status, func.count(Reminder.id)).group_by(Reminder.status)).all())
    overdue_pending = db.session.scalar(
        select(func.count(Reminder.id)).where(
            Reminder.status == ReminderStatus.PENDING, Reminder.run_at < now - timedelta(minutes=5)
        )
    )
    messages = dict(
        db.session.execute(select(Delivery.status, func.count(Delivery.id)).group_by(Delivery.status)).all()
    )
    overdue_messages = db.session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.status == ReminderStatus.PENDING, Delivery.run_at < now - timedelta(minutes=5)
        )
    )
    failed_messages = list(
        db.session.scalars(
            select(Delivery).where(Delivery.status == ReminderStatus.FAILED).order_by(Delivery.id.desc()).limit(50)
        )
    )
    runs = {run.job_id: run for run in db.session.scalars(select(JobRun))}
    jobs = [(job, runs.get(job["id"])) for job in job_table(current_app)]
    failed = list(
        db.session.scalars(
            select(Reminder).where(Reminder.status == ReminderStatus.FAILED).order_by(Reminder.id.desc()).limit(50)
        )
    )
    recent = list(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.status.in_((ReminderStatus.SENT, ReminderStatus.SKIPPED)))
            .order_by(Reminder.sent_at.desc())
            .limit(20)
        )
    )
    upcoming = list(
        db.session.scalars(
            select(Reminder).where(Reminder.status == ReminderStatus.PENDING).order_by(Reminder.run_at).limit(20)
        )
    )
    return render_template(
        "admin/scheduler.html",
        counts=counts,
        overdue_pending=overdue_pending,
        messages=messages,
        overdue_messages=overdue_messages,
        failed_messages=failed_messages,
        jobs=jobs,
        failed=failed,
        recent=recent,
        upcoming=upcoming,
        smtp=bool(current_app.config.get("SMTP_HOST")),
        kind_labels=KIND_LABELS,
        result_text=result_text,
        status_labels=STATUS_LABELS,
        job_labels=JOB_LABELS,
    )


@bp.route("/reminders/<int:reminder_id>/retry", methods=["POST"])
@roles_required(*SUPERVISORS)
def retry(reminder_id):
    return _send_again(Reminder, reminder_id, _l("The reminder will be sent again at the next dispatch."))


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
@roles_required(*SUPERVISORS)
def retry_delivery(delivery_id):
    """Send one failed message again (after the address was corrected, or the server mended)."""
    return _send_again(Delivery, delivery_id, _l("The message will be sent again at the next dispatch."))


def _send_again(model, row_id: int, done):
    row = db.session.get(model, row_id)
    if row is None or row.status != ReminderStatus.FAILED:
        abort(404)
    retry_failed(row, utcnow())
    db.session.commit()
    flash(str(done), "success")
    return redirect(url_for("scheduler_admin.index"))
