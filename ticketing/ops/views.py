"""/healthz, /readyz and /metrics: for load balancers, supervisors and Prometheus, never for people;
no session is read or written."""

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from ticketing.ops import health, logs, metrics

bp = Blueprint("ops", __name__)
LOCAL_ADDRESSES = {"127.0.0.1", "::1"}
FORWARDING_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


@bp.record_once
def _watch_every_request(state) -> None:
    app = state.app
    app.before_request_funcs.setdefault(None, []).insert(0, _before)  # first: the timer and the id for all
    app.after_request(_after)
    if app.config["LOG_FORMAT"] == "json":
        logs.use_json_logs(app)


def _before() -> None:
    metrics.start_timer()
    logs.take_request_id()


def _after(response):
    return logs.send_request_id(metrics.count_request(response))


@bp.route("/healthz")
def healthz():
    """The process answers: nothing else is checked (a restart would not mend the database)."""
    return _private(jsonify(status="alive"))


@bp.route("/readyz")
def readyz():
    """Ready for traffic: 200, else 503 with the check that failed and why."""
    report = health.as_json(health.readiness())
    return _private(jsonify(report)), 200 if report["status"] == "ready" else 503


@bp.route("/metrics")
def prometheus():
    if not _may_scrape():
        return _private(jsonify(error="metrics need the METRICS_TOKEN, or a request from this machine")), 403
    return _private(Response(metrics.exposition(), mimetype="text/plain; version=0.0.4"))


def _may_scrape() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
        return scheme == "Bearer" and hmac.compare_digest(offered.strip().encode(errors="replace"), token.encode())
    # Without a token only this machine, and not through a proxy on it (that would be anyone's request).
    return request.remote_addr in LOCAL_ADDRESSES and not any(request.headers.get(h) for h in FORWARDING_HEADERS)


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
