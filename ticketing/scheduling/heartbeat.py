"""Scheduler heartbeats: each scheduler process keeps a row of job_runs ("heartbeat:<name>") fresh,
so /readyz can tell a live scheduler from a dead one even when several share the work."""

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.scheduling.models import JobRun

PREFIX = "heartbeat:"
FORGOTTEN_AFTER = timedelta(days=1)  # a process gone this long (a restart under a new name) is no longer named


@dataclass(frozen=True)
class Beat:
    name: str
    started_at: datetime | None
    last_seen: datetime


def process_name() -> str:
    """SCHEDULER_NAME (say, the systemd instance), else host:pid; it fits the job id's 40 characters."""
    name = current_app.config.get("SCHEDULER_NAME") or f"{socket.gethostname()}:{os.getpid()}"
    return name[: 40 - len(PREFIX)]


def beat(name: str, started_at: datetime) -> None:
    """This process is alive now; rows of processes gone for a day are removed."""
    now = utcnow()
    row = db.session.get(JobRun, PREFIX + name) or JobRun(job_id=PREFIX + name, runs=0)
    row.last_started_at, row.last_finished_at, row.last_result = started_at, now, "alive"
    row.runs = (row.runs or 0) + 1
    db.session.add(row)
    db.session.execute(
        delete(JobRun).where(JobRun.job_id.startswith(PREFIX), JobRun.last_finished_at < now - FORGOTTEN_AFTER)
    )
    db.session.commit()


def forget(name: str) -> None:
    """A scheduler stopping cleanly takes its row with it: it is stopped, not dead."""
    db.session.execute(delete(JobRun).where(JobRun.job_id == PREFIX + name))
    db.session.commit()


def beats() -> list[Beat]:
    """Every scheduler process heard from in the last day, the most recent first."""
    rows = db.session.scalars(
        select(JobRun).where(JobRun.job_id.startswith(PREFIX)).order_by(JobRun.last_finished_at.desc())
    )
    return [Beat(row.job_id.removeprefix(PREFIX), row.last_started_at, row.last_finished_at) for row in rows]


def max_age() -> timedelta:
    """A heartbeat older than three intervals is a process that stopped beating."""
    return timedelta(seconds=3 * current_app.config["SCHEDULER_HEARTBEAT_SECONDS"])
