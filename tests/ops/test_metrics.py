"""/metrics: Prometheus's text format, for a bearer METRICS_TOKEN or this machine only; requests,
latency, reminders by status, due and the dispatch lag read from the database."""

import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import open_case
from tests.ops.conftest import beat
from ticketing.cases.models import Reminder
from ticketing.cases.vocabulary import ReminderStatus
from ticketing.clock import utcnow
from ticketing.extensions import db


def samples(response) -> dict:
    text = response.get_data(as_text=True)
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_requests_by_endpoint_and_status(client):
    before = samples(client.get("/metrics"))
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page")
    after = samples(client.get("/metrics"))
    healthz = ("ticketing_http_requests_total", (("endpoint", "ops.healthz"), ("method", "GET"), ("status", "200")))
    missing = ("ticketing_http_requests_total", (("endpoint", "unmatched"), ("method", "GET"), ("status", "404")))
    assert after[healthz] - before.get(healthz, 0) == 2
    assert after[missing] - before.get(missing, 0) == 1
    latency = ("ticketing_http_request_duration_seconds_count", (("endpoint", "ops.healthz"), ("method", "GET")))
    assert after[latency] - before.get(latency, 0) == 2


def test_metrics_read_reminders_due_sent_failed_and_the_dispatch_lag(client, agent):
    ticket = open_case(agent)
    now = utcnow()
    for key, status, run_at in (
        ("late", ReminderStatus.PENDING, now - timedelta(seconds=120)),
        ("later", ReminderStatus.PENDING, now + timedelta(hours=1)),
        ("sent", ReminderStatus.SENT, now - timedelta(hours=1)),
        ("dead", ReminderStatus.FAILED, now - timedelta(hours=1)),
    ):
        row = Reminder(key=f"test-{key}", kind="follow_up_due", ticket_id=ticket.id, audience="assignee")
        row.status, row.due_at, row.run_at = status, run_at, run_at
        db.session.add(row)
    db.session.commit()
    beat("scheduler-1", ago=timedelta(seconds=10))
    found = samples(client.get("/metrics"))
    assert found[("ticketing_reminders", (("status", "failed"),))] >= 1
    assert found[("ticketing_reminders", (("status", "sent"),))] >= 1
    assert found[("ticketing_reminders", (("status", "pending"),))] >= 2
    assert found[("ticketing_reminders_due", ())] >= 1
    assert found[("ticketing_dispatch_lag_seconds", ())] >= 120
    assert 10 <= found[("ticketing_scheduler_heartbeat_age_seconds", (("process", "scheduler-1"),))] < 60


def test_metrics_without_a_token_answer_only_this_machine(client):
    assert client.get("/metrics").status_code == 200
    away = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert away.status_code == 403
    assert away.get_json() == {"error": "metrics need the METRICS_TOKEN, or a request from this machine"}
    # A reverse proxy on this machine forwards anyone's request: that is not this machine asking.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong",
        "Bearer ",
        "s3cret-metrics-token-123",
        "Basic s3cret-metrics-token-123",
        "Bearer \x00\u00e9",
    ],
)
def test_metrics_with_a_token_refuse_anything_else(app, client, authorization):
    app.config["METRICS_TOKEN"] = "s3cret-metrics-token-123"
    headers = {"Authorization": authorization} if authorization is not None else {}
    assert client.get("/metrics", headers=headers).status_code == 403


def test_metrics_with_a_token_answer_it_from_anywhere(app, client):
    app.config["METRICS_TOKEN"] = "s3cret-metrics-token-123"
    response = client.get(
        "/metrics",
        headers={"Authorization": "Bearer s3cret-metrics-token-123", "X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert ("ticketing_reminders_due", ()) in samples(response)


def test_every_answer_carries_a_request_id_and_a_plain_one_from_the_proxy_is_kept(client):
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "edge-42.a"}).headers["X-Request-ID"] == "edge-42.a"
    for hostile in ("<script>y</script>", "y" * 101, "y\x00y", "y y"):
        replaced = client.get("/healthz", headers={"X-Request-ID": hostile}).headers["X-Request-ID"]
        assert len(replaced) == 32 and "y" not in replaced


def test_json_logs_write_one_object_a_line_with_the_request_id():
    from flask import current_app

    from config import TestConfig
    from ticketing import create_app

    stream = io.StringIO()
    handlers = {name: logging.StreamHandler(stream) for name in ("ticketing", "gunicorn.access")}
    for name, handler in handlers.items():  # as a deployment's logging (or gunicorn's) set them up
        logging.getLogger(name).addHandler(handler)
    try:
        app = create_app(
            type("JsonLogs", (TestConfig,), {"LOG_FORMAT": "json", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        )
        app.add_url_rule("/say", "say", lambda: current_app.logger.warning("case %s: a note", "C-1") or "said")
        assert app.test_client().get("/say", headers={"X-Request-ID": "edge-7"}).status_code == 200
        logging.getLogger("gunicorn.access").warning('"GET /say" 200')  # after the request: no id
        said, access = [json.loads(text) for text in stream.getvalue().splitlines()]
    finally:
        for name, handler in handlers.items():
            logging.getLogger(name).removeHandler(handler)
    assert said["message"] == "case C-1: a note"
    assert said["level"] == "WARNING" and said["logger"] == "ticketing"
    assert said["request_id"] == "edge-7"
    assert said["time"].endswith("+00:00")
    assert access["message"] == '"GET /say" 200' and "request_id" not in access


WORKER = """
from config import TestConfig
from ticketing import create_app
app = create_app(type("Worker", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
with app.app_context():
    from ticketing.extensions import db
    db.create_all()
    client = app.test_client()
    for _ in range(int(__import__("sys").argv[1])):
        client.get("/healthz")
    print(client.get("/metrics").get_data(as_text=True))
"""


def test_with_a_multiprocess_folder_every_worker_reports_the_requests_of_all(tmp_path):
    """gunicorn's workers are processes: PROMETHEUS_MULTIPROC_DIR makes their counts one."""
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]
    outputs = [
        subprocess.run(
            [sys.executable, "-c", WORKER, str(count)], env=env, cwd=root, capture_output=True, text=True, check=True
        ).stdout
        for count in (2, 3)
    ]
    healthz = ("ticketing_http_requests_total", (("endpoint", "ops.healthz"), ("method", "GET"), ("status", "200")))
    last = {
        (sample.name, tuple(sorted((k, v) for k, v in sample.labels.items() if k != "pid"))): sample.value
        for family in text_string_to_metric_families(outputs[-1])
        for sample in family.samples
    }
    assert last[healthz] == 5  # the first worker's two and the second's three
