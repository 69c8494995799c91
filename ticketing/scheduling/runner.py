"""APScheduler wiring: the clock only. The reminder rows are the truth, so nothing here
needs APScheduler's own job store to survive a crash (jobs are in memory, fixed ids)."""

from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from ticketing.scheduling.jobs import digest_job, dispatch_job, early_warning_job, run_recorded


def job_table(app: Flask) -> list[dict]:
    """The periodic jobs, as data: one per concern, each with a fixed id."""
    return [
        {
            "id": "dispatch",
            "func": dispatch_job,
            "trigger": "interval",
            "args": {"seconds": app.config["DISPATCH_INTERVAL_SECONDS"]},
        },
        {
            "id": "daily_digest",
            "func": digest_job,
            "trigger": "cron",
            "args": {"hour": app.config["DIGEST_HOUR"], "minute": 0, "timezone": app.config["BABEL_DEFAULT_TIMEZONE"]},
        },
        # Once a day, just after the digest; reruns add nothing (one notice per series, week, supervisor).
        {
            "id": "early_warning",
            "func": early_warning_job,
            "trigger": "cron",
            "args": {"hour": app.config["DIGEST_HOUR"], "minute": 5, "timezone": app.config["BABEL_DEFAULT_TIMEZONE"]},
        },
    ]


def build_scheduler(app: Flask, blocking: bool):
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    for job in job_table(app):
        scheduler.add_job(
            _in_app_context,
            job["trigger"],
            id=job["id"],
            args=(app, job["id"], job["func"]),
            coalesce=True,
            max_instances=1,
            replace_existing=True,
            misfire_grace_time=60,
            **_start(job),
            **job["args"],
        )
    return scheduler


def _start(job) -> dict:
    """Dispatch at once on start (catch up after downtime); cron jobs wait for their hour."""
    return {"next_run_time": datetime.now(timezone.utc)} if job["trigger"] == "interval" else {}


def _in_app_context(app: Flask, job_id: str, func) -> None:
    with app.app_context():
        run_recorded(job_id, func)
