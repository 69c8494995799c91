"""Scheduler jobs: plain functions taking `now`, each recording its last run for the admin page."""

import traceback
from datetime import datetime

from ticketing.cases.early_warning import raise_early_warnings
from ticketing.cases.reminders import create_daily_digests
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.scheduling.dispatcher import dispatch_due
from ticketing.scheduling.models import JobRun


def dispatch_job(now: datetime) -> str:
    """Deliver every reminder that is due."""
    return dispatch_due(now).summary()


def digest_job(now: datetime) -> str:
    """Queue today's digest for every staff member (the dispatcher delivers them)."""
    created = create_daily_digests(now)
    db.session.commit()
    return f"{created} digests queued"


def early_warning_job(now: datetime) -> str:
    """Notify the supervisors of every category or product far above its baseline (once a week each)."""
    created = raise_early_warnings(now)
    db.session.commit()
    return f"{created} early-warning notices queued"


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
