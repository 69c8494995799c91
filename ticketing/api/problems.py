"""Errors as RFC 9457 problem details (application/problem+json)."""

from flask import Response, json, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ticketing.api.resources import FieldError, Problem
from ticketing.api.schemas import NO_NUL, NOT_BLANK, ONE_LINE, ONE_LINE_NOT_BLANK
from ticketing.cases.services.base import StaleCase
from ticketing.cases.settings import SettingError
from ticketing.cases.workflow import WorkflowError
from ticketing.i18n import gettext as _

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/problems/"


class ApiProblem(Exception):
    """Raised by API code to answer with a problem document."""

    def __init__(self, status: int, slug: str, title, detail=None, **extra):
        super().__init__(str(title))
        self.status, self.slug, self.title, self.detail, self.extra = status, slug, title, detail, extra


def respond(status: int, slug: str, title, detail=None, headers=None, **extra) -> Response:
    problem = Problem(
        type=TYPE_BASE + slug,
        title=str(title),
        status=status,
        detail=str(detail) if detail is not None else None,
        **extra,
    )
    body = json.dumps(problem.model_dump(mode="json", exclude_none=True))
    return Response(body, status=status, mimetype=MEDIA_TYPE, headers=headers)


def from_problem(error: ApiProblem) -> Response:
    return respond(error.status, error.slug, error.title, error.detail, **error.extra)


class InvalidInput(Exception):
    """Raised by API code for a request whose body or query fails its schema."""

    def __init__(self, error: ValidationError, where: str = "body"):
        super().__init__(str(error))
        self.error, self.where = error, where


def from_invalid_input(wrapper: InvalidInput) -> Response:
    return invalid(wrapper.error, wrapper.where)


def from_refusal(error) -> Response:
    """A refusal of the rules (the session is already rolled back, so what it reads is fresh).

    The API's documented answers: a stale version is 409 `stale-version` with who and when, every
    workflow refusal 422 `workflow` with the reason, a refused setting 422 `setting` naming it in
    `errors`; any other refusal its own status."""
    if isinstance(error, StaleCase):
        title = _("The case has changed since you read it.")
        if error.ticket is None:
            return respond(
                409,
                "stale-version",
                title,
                _("The case was changed by someone else meanwhile. Read it again; nothing was saved."),
            )
        return respond(
            409,
            "stale-version",
            title,
            _(
                "This case was changed by %(who)s at %(when)s. Read it again; nothing was saved.",
                who=error.changed_by,
                when=error.changed_at.isoformat(),
            ),
            current_version=error.ticket.version,
        )
    if isinstance(error, WorkflowError):
        errors = (
            None
            if error.field is None
            else [FieldError(field=_api_field(error.field), message=str(error.reason), type="workflow")]
        )
        return respond(422, "workflow", _("The workflow does not allow this now."), error.reason, errors=errors)
    if isinstance(error, SettingError):
        errors = [FieldError(field=error.field, message=str(error.reason), type="setting")]
        return respond(
            422, "setting", _("A setting cannot take this value; nothing was saved."), error.reason, errors=errors
        )
    return respond(error.status, "refused", _("The request was refused; nothing was saved."), error.reason)


def invalid(error: ValidationError, where: str = "body") -> Response:
    """422 with one entry per field, so an integrator sees every mistake at once."""
    errors = [
        FieldError(
            field=".".join(str(part) for part in item["loc"]) or where, message=_message(item), type=item["type"]
        )
        for item in error.errors(include_url=False)
    ]
    if any(item.type == "json_invalid" for item in errors):
        return respond(400, "malformed-json", _("The request body is not valid JSON."))
    return respond(422, "validation", _("Some fields are not valid."), _("Nothing was saved."), errors=errors)


def _message(item: dict) -> str:
    """pydantic's message, except where it would only show our text pattern."""
    pattern = item.get("ctx", {}).get("pattern") if item["type"] == "string_pattern_mismatch" else None
    if pattern in (NOT_BLANK, NO_NUL):
        return "must not be blank or contain the NUL character or other control characters"
    if pattern in (ONE_LINE, ONE_LINE_NOT_BLANK):
        return "must be one line, not blank, without the NUL character, line breaks or other control characters"
    return item["msg"]


_TITLES = {
    400: ("bad-request", lambda: _("Bad request.")),
    401: ("unauthenticated", lambda: _("A valid API token is needed.")),
    403: ("forbidden", lambda: _("This token may not do that.")),
    404: ("not-found", lambda: _("Not found.")),
    405: ("method-not-allowed", lambda: _("Method not allowed.")),
    413: ("too-large", lambda: _("The request is too large.")),
    415: ("unsupported-media-type", lambda: _("Send JSON (Content-Type: application/json).")),
    429: ("rate-limited", lambda: _("Too many requests; slow down and retry later.")),
    500: ("server-error", lambda: _("Something went wrong on our side; nothing was saved.")),
}


def from_http(error: HTTPException) -> Response:
    slug, title = _TITLES.get(error.code, ("error", lambda: error.name))
    response = respond(error.code or 500, slug, title())
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


_API_NAMES = {"lines": "compensation"}  # the workflow's name for a piece of data -> the API body's


def _api_field(field: str) -> str:
    """The refused piece of data, named as in the request body ("lines.0" -> "compensation.0")."""
    head, dot, rest = field.partition(".")
    return _API_NAMES.get(head, head) + dot + rest


def is_api_request() -> bool:
    return request.path.startswith("/api/")
