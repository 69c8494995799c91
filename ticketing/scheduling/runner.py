"""APScheduler wiring: the clock only. The reminder rows are the truth, so nothing here
needs APScheduler's own job store to survive a crash (jobs are in memory, fixed ids)."""

from datetime import datetime, timezone

from flask import Flask

from ticketing.scheduling import heartbeat
from ticketing.scheduling.jobs import (
    anchor_job,
    digest_job,
    dispatch_job,
    early_warning_job,
    insight_facts_job,
    mail_intake_job,
    reports_job,
    retention_job,
    run_recorded,
)


def job_table(app: Flask) -> list[dict]:
    """The periodic jobs, as data: one per concern, each with a fixed id."""
    return [
        {
            "id": "dispatch",
            "func": dispatch_job,
            "trigger": "interval",
            "args": {"seconds": app.config["DISPATCH_INTERVAL_SECONDS"]},
        },
        # Every hour on the hour; each acts only in the digest hour the settings name (so a new hour
        # is in force the same day, with no restart). Reruns add nothing: one digest per person and
        # day, one warning per series, week and supervisor.
        {
            "id": "daily_digest",
            "func": digest_job,
            "trigger": "cron",
            "args": {"minute": 0, "timezone": app.config["BABEL_DEFAULT_TIMEZONE"]},
        },
        {
            "id": "early_warning",
            "func": early_warning_job,
            "trigger": "cron",
            "args": {"minute": 5, "timezone": app.config["BABEL_DEFAULT_TIMEZONE"]},
        },
        # Every day just after midnight where the desk works: the record log's anchor.
        {
            "id": "audit_anchor",
            "func": anchor_job,
            "trigger": "cron",
            "args": {"hour": 0, "minute": 15, "timezone": app.config["BABEL_DEFAULT_TIMEZONE"]},
        },
        # Every minute: the Insight facts of the cases changed since (ticketing/cases/facts.py).
        {"id": "insight_facts", "func": insight_facts_job, "trigger": "interval", "args": {"seconds": 60}},
        # Every minute (MAIL_INTAKE_INTERVAL_SECONDS): new mail in the intake mailboxes.
        {
            "id": "mail_intake",
            "func": mail_intake_job,
            "trigger": "interval",
            "args": {"seconds": app.config["MAIL_INTAKE_INTERVAL_SECONDS"]},
        },
        # Every few seconds: the long reports pages asked for (ticketing/scheduling/reports.py).
        {
            "id": "reports",
            "func": reports_job,
            "trigger": "interval",
            "args": {"seconds": app.config["REPORT_INTERVAL_SECONDS"]},
        },
        # Every night at 03:30 where the desk works, when it is quietest: old reminder rows go.
        {
            "id": "reminder_retention",
            "func": retention_job,
            "trigger": "cron",
            "args": {"hour": 3, "minute": 30, "timezone": app.config["BABEL_DEFAULT_TIMEZONE"]},
        },
    ]


def build_scheduler(app: Flask, blocking: bool):
    # Imported here: a web worker reads the job table (the Scheduler page) but never runs a scheduler.
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

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
    _add_heartbeat(app, scheduler)
    return scheduler


def _add_heartbeat(app: Flask, scheduler) -> None:
    """Not in the job table (it is the process's, not a job of the desk): a beat now and every
    SCHEDULER_HEARTBEAT_SECONDS, its row removed when the scheduler shuts down cleanly."""
    with app.app_context():
        name = heartbeat.process_name()
    started = datetime.now(timezone.utc)

    def beat():
        with app.app_context():
            heartbeat.beat(name, started)

    def forget(_event):
        with app.app_context():
            heartbeat.forget(name)

    scheduler.add_job(
        beat,
        "interval",
        id="heartbeat",
        seconds=app.config["SCHEDULER_HEARTBEAT_SECONDS"],
        next_run_time=started,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
    from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN

    scheduler.add_listener(forget, EVENT_SCHEDULER_SHUTDOWN)


def _start(job) -> dict:
    """Dispatch at once on start (catch up after downtime); cron jobs wait for their hour."""
    return {"next_run_time": datetime.now(timezone.utc)} if job["trigger"] == "interval" else {}


def _in_app_context(app: Flask, job_id: str, func) -> None:
    with app.app_context():
        run_recorded(job_id, func)
