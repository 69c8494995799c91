"""Scheduler jobs: plain functions taking `now`, each recording its last run for the admin page."""

import traceback
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import ngettext

from ticketing.cases import anchors, facts
from ticketing.cases.early_warning import raise_early_warnings
from ticketing.cases.reminders import create_daily_digests
from ticketing.cases.settings import desk
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import gettext as _
from ticketing.notify import intake
from ticketing.notify.email import DeliveryError, build_message, send, smtp_configured
from ticketing.scheduling import reports
from ticketing.scheduling.dispatcher import dispatch_due
from ticketing.scheduling.models import JobRun
from ticketing.scheduling.retention import refresh_statistics, remove_old_reminders


def dispatch_job(now: datetime) -> str:
    """Deliver every reminder that is due."""
    return dispatch_due(now).summary()


def in_digest_hour(now: datetime) -> bool:
    """Whether `now` falls in the settings' digest hour, where the desk works."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return now.astimezone(zone).hour == desk().digest_hour


def digest_job(now: datetime) -> str:
    """In the digest hour: queue today's digest for every staff member (the dispatcher delivers them)."""
    if not in_digest_hour(now):
        return "not the digest hour"
    created = create_daily_digests(now)
    db.session.commit()
    return f"{created} digests queued"


def early_warning_job(now: datetime) -> str:
    """In the digest hour: notify the supervisors of every category or product far above its
    baseline (once a week each)."""
    if not in_digest_hour(now):
        return "not the digest hour"
    created = raise_early_warnings(now)
    db.session.commit()
    return f"{created} early-warning notices queued"


def insight_facts_job(now: datetime) -> str:
    """Write the Insight facts of the cases changed since the last pass (the dashboard need not wait
    for them, and says "as of" while any wait)."""
    written = facts.catch_up(limit=None)
    db.session.commit()
    return f"facts of {written} changed cases written"


def mail_intake_job(now: datetime) -> str:
    """Read the intake mailboxes (MAIL_INTAKE): each new mail filed once, as a complaint, a message on
    its case, or kept for staff (notify/intake.py)."""
    if not intake.mailboxes():
        return "no intake mailbox is set (MAIL_INTAKE)"
    return intake.poll_all(now).summary()


def reports_job(now: datetime) -> str:
    """The long reports asked for since the last pass (scheduling/reports.py), worked out one at a time."""
    return reports.work().summary()


def retention_job(now: datetime) -> str:
    """Once a day: remove the sent and cancelled reminder rows past the desk's retention period (in
    short batches), keeping the in-app notices' text, every message's delivery and the record log."""
    days = desk().reminder_retention_days
    removed = remove_old_reminders(now, days)
    said = ngettext(
        "%(num)d reminder row older than %(days)d days removed; %(notices)d in-app notices kept whole",
        "%(num)d reminder rows older than %(days)d days removed; %(notices)d in-app notices kept whole",
        removed.reminders,
        days=days,
        notices=removed.notices_unlinked,
    )
    return said + (_("; the query planner's statistics gathered") if refresh_statistics() else "")


def anchor_job(now: datetime) -> str:
    """Once a day: anchor every case's chain head outside the database (a file, and a copy mailed to
    the auditor when AUDIT_ANCHOR_EMAIL is set)."""
    folder = current_app.config["AUDIT_ANCHOR_DIR"]
    anchor = anchors.take(now, previous=anchors.newest(folder))  # the heads changed since the last one
    path = anchors.write(anchor, folder)
    result = f"{len(anchor['cases'])} cases anchored in {path.name}"
    auditor = current_app.config.get("AUDIT_ANCHOR_EMAIL")
    if not auditor:
        return result
    if not smtp_configured():
        return f"{result}; not mailed: no SMTP server is configured"
    message = build_message(
        to=auditor,
        subject=_("Record-log anchor of %(date)s", date=now.date().isoformat()),
        body=_(
            "Attached: the heads of %(cases)d cases' record logs and of the security log, sealed. Keep it "
            "where the desk's own staff and database cannot change it; `flask audit verify --anchors FILE` "
            "checks the database against it.",
            cases=len(anchor["cases"]),
        ),
        token=f"anchor-{path.stem}",
    )
    message.add_attachment(path.read_bytes(), maintype="application", subtype="json", filename=path.name)
    try:
        send(message)
    except DeliveryError as error:  # the file is written; the next day's mail carries the next anchor
        return f"{result}; mailing it failed: {error}"
    return f"{result}; mailed to the auditor"


def run_recorded(job_id: str, func) -> None:
    """Run one job and keep its last start, finish, result or error."""
    started = utcnow()
    error = result = None
    try:
        result = func(started)
    except Exception:  # a job's failure is reported on the admin page, and the scheduler goes on
        db.session.rollback()
        error = traceback.format_exc(limit=5)
    run = db.session.get(JobRun, job_id) or JobRun(job_id=job_id, runs=0)
    run.last_started_at, run.last_finished_at = started, utcnow()
    run.last_result, run.last_error = result, error
    run.runs = (run.runs or 0) + 1
    db.session.add(run)
    db.session.commit()
