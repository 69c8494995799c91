"""A long Insight report end to end, in the processes production runs: the web process answers at once
that the scheduler is working the figures out, the scheduler process (`flask scheduler run`) works them
out, and the next look at the page shows them — the web process never computed them."""

from sqlalchemy import create_engine, func, select

from tests.deploy.test_topology import Client
from tests.mail import free_port
from tests.scheduling_processes.support import (
    log_tail,
    mail_sink,
    migrate,
    process_database,
    start_scheduler,
    stop,
    wait_until,
)
from tests.scheduling_processes.test_settings_everywhere import (
    _complain,
    _seed_app,
    _serving,
    _staff_and_token,
    _start_web,
)
from ticketing.scheduling.models import ReportSnapshot

EVERY_REPORT = {"REPORT_LIVE_CASES": "0", "REPORT_INTERVAL_SECONDS": "1"}


def test_the_scheduler_process_works_out_the_dashboard_the_web_process_asked_for(tmp_path, monkeypatch):
    for name, value in EVERY_REPORT.items():
        monkeypatch.setenv(name, value)
    with process_database(tmp_path) as url, mail_sink() as (_sink, smtp_port):
        migrate(url)
        app = _seed_app(url)
        _supervisor, token = _staff_and_token(app)
        engine = create_engine(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        web = _start_web(url, port, tmp_path / "web.log")
        scheduler = None
        try:
            assert wait_until(lambda: _serving(base), timeout=30), log_tail(tmp_path / "web.log")
            for n in range(3):
                _complain(base, token, f"Complaint {n}")
            browser = Client(base, "127.0.0.1")
            assert browser.login("sup@example.test", "a long password 1") == 302
            status, page, _location = browser.send("/insight/")
            assert status == 200
            assert "No scheduler is running, so these figures cannot be worked out now" in page

            scheduler = start_scheduler(url, smtp_port, tmp_path / "scheduler.log", **EVERY_REPORT)

            def shown() -> str | None:
                page = browser.send("/insight/")[1]
                return page if 'class="tiles"' in page else None

            assert wait_until(shown, timeout=60, interval=0.5), log_tail(tmp_path / "scheduler.log")
            page = shown()
            assert "worked out by the scheduler (refreshed every 10 minutes)" in page
            assert "Cases opened" in page and "<svg" in page
            with engine.connect() as conn:
                worked = dict(conn.execute(select(ReportSnapshot.kind, ReportSnapshot.status)).all())
                assert worked == {"insight.dashboard": "ready", "insight.alerts": "ready"}  # the early warnings too
                assert conn.scalar(select(func.count()).select_from(ReportSnapshot)) == 2
        finally:
            stop(web)
            if scheduler is not None:
                stop(scheduler)
            engine.dispose()
            with app.app_context():
                from ticketing.extensions import db

                db.engine.dispose()
