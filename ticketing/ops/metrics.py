"""Prometheus metrics. Requests and their latency are counted per process (across gunicorn workers
when PROMETHEUS_MULTIPROC_DIR is set, prometheus_client's multiprocess mode); the reminder and
scheduler figures are read from the database at each scrape, so every worker answers the same."""

import os
import time

from flask import g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from ticketing.clock import utcnow
from ticketing.scheduling import heartbeat
from ticketing.scheduling.backlog import backlog

REQUESTS = CollectorRegistry(auto_describe=True)
REQUEST_COUNT = Counter(
    "ticketing_http_requests_total",
    "HTTP requests answered, by method, endpoint and status.",
    ["method", "endpoint", "status"],
    registry=REQUESTS,
)
REQUEST_LATENCY = Histogram(
    "ticketing_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and endpoint.",
    ["method", "endpoint"],
    registry=REQUESTS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def start_timer() -> None:
    g.metrics_started = time.perf_counter()


def count_request(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.endpoint or "unmatched"  # a 404's path is not a label: it would grow without end
        REQUEST_COUNT.labels(request.method, endpoint, str(response.status_code)).inc()
        REQUEST_LATENCY.labels(request.method, endpoint).observe(time.perf_counter() - started)
    return response


class DatabaseCollector:
    """Reminders and messages by status, due now, the dispatch lag and the scheduler heartbeats."""

    def describe(self):
        return []  # nothing to check at registration: the figures are read at the scrape

    def collect(self):
        now = utcnow()
        state = backlog(now)
        for name, counts in (("reminders", state.reminders), ("messages", state.messages)):
            family = GaugeMetricFamily(f"ticketing_{name}", f"{name.title()} by status.", labels=["status"])
            for status, count in counts.items():
                family.add_metric([status], count)
            yield family
        yield GaugeMetricFamily("ticketing_reminders_due", "Reminders and messages due and not yet sent.", state.due)
        yield GaugeMetricFamily(
            "ticketing_dispatch_lag_seconds",
            "How long the oldest due reminder or message has waited.",
            state.lag_seconds,
        )
        beats = GaugeMetricFamily(
            "ticketing_scheduler_heartbeat_age_seconds",
            "Seconds since each scheduler process beat.",
            labels=["process"],
        )
        for beat in heartbeat.beats():
            beats.add_metric([beat.name], (now - beat.last_seen).total_seconds())
        yield beats


def exposition() -> bytes:
    """The text format Prometheus scrapes."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
    registry.register(DatabaseCollector())
    return generate_latest(registry)
