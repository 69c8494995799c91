"""A setting saved by one process is in force in the others at once, with no restart: the web
process opens the next case with the new deadlines, and the scheduler process, which had read the
old ones, hands out that case's reminders instead of cancelling them as not needed (the old bug:
each process read its own environment, and a scheduler with other hours cancelled reminders)."""

import json
import os
import subprocess
import sys
import urllib.request
from datetime import timedelta

from sqlalchemy import create_engine, select

from config import Config, TestConfig
from tests.mail import free_port
from tests.scheduling_processes.support import (
    ROOT,
    log_tail,
    mail_sink,
    migrate,
    process_database,
    start_scheduler,
    stop,
    wait_until,
)
from ticketing.cases.models import Reminder, Ticket

# Hours so short that the warnings fall due during the test: first response in 10.8 s, then 14.4 s.
BEFORE = {"urgent": [0.5, 1], "high": [1, 2], "normal": [0.003, 0.006], "low": [2, 4]}
AFTER = {**BEFORE, "normal": [0.004, 0.008]}


def _seed_app(url):
    from ticketing import create_app

    settings = {"SQLALCHEMY_DATABASE_URI": url, "PASSWORD_HASH_METHOD": TestConfig.PASSWORD_HASH_METHOD}
    return create_app(type("SeedConfig", (Config,), settings))


def _save(app, user_id, changes):
    from ticketing.auth.models import User
    from ticketing.cases import settings
    from ticketing.clock import utcnow
    from ticketing.extensions import db

    with app.app_context():
        settings.save(db.session.get(User, user_id), changes, utcnow())
        db.session.commit()


def _staff_and_token(app) -> tuple[int, str]:
    from ticketing.auth.services import create_user
    from ticketing.auth.tokens import create_token
    from ticketing.extensions import db

    with app.app_context():
        supervisor = create_user(
            email="sup@example.test", name="Sam Supervisor", role="supervisor", password="a long password 1"
        )
        db.session.flush()
        _row, secret = create_token(supervisor, "settings test")
        db.session.commit()
        return supervisor.id, secret


def _complain(base, token, subject) -> str:
    body = {
        "customer": {"name": "Li Lei", "phone": "+86 138 0013 8000"},
        "subject": subject,
        "description": "It leaks.",
        "channel": "phone",
    }
    request = urllib.request.Request(
        f"{base}/api/v1/tickets",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["reference"]


def _start_web(url, port, log):
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "settings-test", "FLASK_DEBUG": "0"}
    with open(log, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port), "--no-reload"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _serving(base) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/login", timeout=2):
            return True
    except OSError:
        return False


def test_a_saved_setting_is_in_force_in_the_web_and_scheduler_processes_without_restart(tmp_path):
    with process_database(tmp_path) as url, mail_sink() as (_sink, smtp_port):
        migrate(url)
        app = _seed_app(url)
        supervisor, token = _staff_and_token(app)
        _save(app, supervisor, {"deadline_hours": BEFORE, "at_risk_fraction": 0.5})
        engine = create_engine(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web = _start_web(url, port, tmp_path / "web.log")
        scheduler = start_scheduler(url, smtp_port, tmp_path / "scheduler.log")
        try:
            assert wait_until(lambda: _serving(base), timeout=30), log_tail(tmp_path / "web.log")

            def case(reference):
                with engine.connect() as conn:
                    return conn.execute(select(Ticket).where(Ticket.reference == reference)).one()

            def warning_status(reference):
                with engine.connect() as conn:
                    return conn.scalar(
                        select(Reminder.status)
                        .join(Ticket, Ticket.id == Reminder.ticket_id)
                        .where(Ticket.reference == reference, Reminder.kind == "response_at_risk")
                    )

            first = case(_complain(base, token, "Before the change"))
            assert first.response_due_at - first.created_at == timedelta(seconds=10.8)
            # The scheduler hands out the first warning: it has read the settings as they were.
            assert wait_until(lambda: warning_status(first.reference) == "sent", timeout=40), log_tail(
                tmp_path / "scheduler.log"
            )

            _save(app, supervisor, {"deadline_hours": AFTER})  # as the settings page does, from a third process

            second = case(_complain(base, token, "After the change"))
            assert second.response_due_at - second.created_at == timedelta(seconds=14.4)  # the web process
            # The scheduler agrees on the new hours: the warning is sent, not cancelled as not needed.
            assert wait_until(lambda: warning_status(second.reference) in ("sent", "cancelled"), timeout=40)
            assert warning_status(second.reference) == "sent", log_tail(tmp_path / "scheduler.log")
            assert web.poll() is None and scheduler.poll() is None  # neither was restarted
        finally:
            stop(web)
            stop(scheduler)
            engine.dispose()
            with app.app_context():
                from ticketing.extensions import db

                db.engine.dispose()


def test_the_migration_seeds_every_setting_from_todays_environment(tmp_path):
    """Upgrading changes nothing: each setting starts as the environment said (SQLite or PostgreSQL)."""
    environment = {
        "COMPENSATION_LIMIT_AGENT": "300",
        "COMPENSATION_LIMIT_SUPERVISOR": "6000",
        "DEFAULT_CURRENCY": "EUR",
        "BUSINESS_HOURS": "09:30-18:00",
        "BUSINESS_DAYS": "0,1,2,3,4",
        "HOLIDAYS": "2026-10-02,2026-10-01",
        "FOLLOW_UP_DELAY_HOURS": "24",
        "REOPEN_DAYS": "14",
        "DIGEST_HOUR": "7",
    }
    with process_database(tmp_path) as url:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
            cwd=ROOT,
            env=os.environ | environment | {"DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        engine = create_engine(url)
        try:
            from ticketing.cases.settings import DeskSetting

            with engine.connect() as conn:
                stored = dict(conn.execute(select(DeskSetting.key, DeskSetting.value)).all())
        finally:
            engine.dispose()
    week = {str(day): (["09:30", "18:00"] if day < 5 else None) for day in range(7)}
    assert stored["business_hours"] == week
    assert stored["holidays"] == ["2026-10-01", "2026-10-02"] and stored["workdays"] == []
    assert stored["compensation_limits"] == {"agent": "300.00", "supervisor": "6000.00", "admin": "20000.00"}
    assert stored["currency"] == "EUR"
    assert stored["deadline_hours"]["urgent"] == [1.0, 24.0]
    assert stored["service_guarantee"]["urgent"] == [["voucher", "100.00"], ["manager_call", None]]
    assert (stored["follow_up_delay_hours"], stored["reopen_days"], stored["digest_hour"]) == (24.0, 14, 7)
    assert stored["auto_escalate_on_breach"] is False
