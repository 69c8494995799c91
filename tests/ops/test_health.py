"""/healthz answers while the process lives; /readyz names what is not ready: the database, the
migrations, the scheduler's heartbeat, the reminder backlog."""

import time
from datetime import timedelta

from sqlalchemy import text

from tests.factories import open_case
from tests.ops.conftest import beat, stamp
from ticketing.cases.models import Reminder
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.scheduling import heartbeat
from ticketing.scheduling.runner import build_scheduler


def test_healthz_answers_alive_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ready_with_the_migrations_at_head_and_a_scheduler_beating(client, at_head):
    beat("scheduler-1")
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["migrations"]["details"] == {"current": [at_head], "head": [at_head]}
    assert body["checks"]["scheduler"]["details"]["alive"] == ["scheduler-1"]
    assert body["checks"]["reminders"]["details"] == {"due": 0, "lag_seconds": 0.0, "failed": 0}


def test_readyz_says_no_scheduler_has_beaten(client, at_head):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["scheduler"]["reason"] == "no scheduler heartbeat recorded: is flask scheduler run running?"
    assert body["checks"]["database"]["ok"] is True


def test_readyz_names_the_scheduler_that_stopped_beating_until_it_is_back(app, client, at_head):
    app.config["SCHEDULER_PROCESSES"] = 2
    beat("scheduler-1")
    beat("scheduler-2", ago=timedelta(seconds=46))  # three 15 s heartbeats missed
    body = client.get("/readyz").get_json()
    scheduler = body["checks"]["scheduler"]
    assert scheduler["reason"] == "1 of 2 scheduler processes beat in the last 45 s"
    assert scheduler["details"]["alive"] == ["scheduler-1"]
    assert list(scheduler["details"]["silent"]) == ["scheduler-2"]
    beat("scheduler-2")
    assert client.get("/readyz").status_code == 200


def test_readyz_wants_the_migrations_at_head(client, at_head):
    beat("scheduler-1")
    stamp("0019_security_log")
    response = client.get("/readyz")
    assert response.status_code == 503
    migrations = response.get_json()["checks"]["migrations"]
    assert migrations["reason"] == "the database is not at the code's migration head: run flask db upgrade"
    assert migrations["details"]["current"] == ["0019_security_log"]


def test_readyz_says_a_database_never_migrated(client):
    beat("scheduler-1")
    migrations = client.get("/readyz").get_json()["checks"]["migrations"]
    assert migrations == {
        "ok": False,
        "reason": "the database has no migration history: run flask db upgrade",
        "details": {"head": migrations["details"]["head"]},
    }


def test_readyz_reports_a_reminder_backlog_older_than_the_limit(app, client, at_head, agent):
    beat("scheduler-1")
    ticket = open_case(agent)
    late = utcnow() - timedelta(seconds=400)
    db.session.add(
        Reminder(
            key="test-late", kind="follow_up_due", ticket_id=ticket.id, audience="assignee", due_at=late, run_at=late
        )
    )
    db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    reminders = response.get_json()["checks"]["reminders"]
    assert reminders["reason"] == "the oldest due reminder or message has waited more than 300 s"
    assert reminders["details"]["due"] >= 1 and reminders["details"]["lag_seconds"] >= 400
    app.config["READY_MAX_DISPATCH_LAG_SECONDS"] = 3600
    assert client.get("/readyz").status_code == 200


def test_readyz_says_the_database_is_unreachable(app, client, monkeypatch):
    def refuse(*args, **kwargs):
        from sqlalchemy.exc import OperationalError

        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(db.session, "execute", refuse)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"]["reason"] == "the database is unreachable: ConnectionRefusedError"
    assert checks["scheduler"]["reason"] == "not checked: the database is unreachable"


def test_a_running_scheduler_beats_and_takes_its_row_away_when_it_stops(app):
    app.config["SCHEDULER_NAME"] = "scheduler-test"
    scheduler = build_scheduler(app, blocking=False)
    scheduler.start()
    try:
        for _ in range(400):  # up to 20 s: on a loaded machine the first beat can take a while
            db.session.expire_all()
            if [b.name for b in heartbeat.beats()] == ["scheduler-test"]:
                break
            time.sleep(0.05)
        assert [b.name for b in heartbeat.beats()] == ["scheduler-test"]
    finally:
        scheduler.shutdown(wait=True)
    db.session.expire_all()
    assert heartbeat.beats() == []


def test_heartbeats_of_processes_gone_a_day_are_forgotten(app):
    beat("old-process", ago=timedelta(days=1, minutes=1))
    beat("new-process")
    assert [b.name for b in heartbeat.beats()] == ["new-process"]
    assert db.session.execute(text("SELECT count(*) FROM job_runs")).scalar() == 1
