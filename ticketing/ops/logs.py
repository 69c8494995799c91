"""JSON logs (LOG_FORMAT=json) and a request id: taken from the proxy's REQUEST_ID_HEADER when it is a
plain token, else made here; sent back in that header and written in every JSON line of the request."""

import json
import logging
import re
import uuid
from datetime import datetime, timezone

from flask import Flask, current_app, g, has_request_context, request

_PLAIN_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")
# The loggers whose handlers print: the app's (with the security log under it), the dev server's, gunicorn's.
LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and g.get("request_id"):
            line["request_id"] = g.request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_json_logs(app: Flask) -> None:
    for logger in (app.logger, *map(logging.getLogger, LOGGERS)):
        for handler in logger.handlers:
            handler.setFormatter(JsonFormatter())


def take_request_id() -> None:
    header = request.headers.get(_header(), "") if _header() else ""
    g.request_id = header if _PLAIN_ID.fullmatch(header) else uuid.uuid4().hex


def send_request_id(response):
    if _header() and g.get("request_id"):
        response.headers[_header()] = g.request_id
    return response


def _header() -> str | None:
    return current_app.config.get("REQUEST_ID_HEADER") or None
