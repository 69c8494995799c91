"""The one refusal type the user is told about, and how a refused page is shown again.

Rules that say no raise a `Refusal` (WorkflowError, StaleCase, AccountError and TokenError are
kinds of it) with a `reason` the user can read. The error handlers, registered once in
setup.configure_errors, roll the session back and answer: the API with problem+json, a page
by showing again what the user was on. A view says how before it calls the service:

    refusals.reshow(lambda error: render_template("desk/case.html", ...), form=form)

and stays free of try/except. The reason goes next to the form's field the refusal names
(`error.field`), or into a flash; a view that says nothing gets a plain page with the reason.
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import flash, g, make_response, render_template, request

from ticketing.redirects import local_path_or

CONFLICT = 409  # the case or the rules do not allow it now
UNPROCESSABLE = 422  # what was sent cannot be accepted


class Refusal(Exception):
    """Something the user asked for that the rules refuse; nothing of the request is kept.

    `reason` is a translatable sentence; `status` the HTTP answer; `field` (optional) the piece of
    the input the reason is about.
    """

    status: int = CONFLICT
    field: str | None = None

    def __init__(self, reason=None, *, status: int | None = None, field: str | None = None):
        super().__init__(str(reason) if reason is not None else "")
        if reason is not None:
            self.reason = reason
        if status is not None:
            self.status = status
        if field is not None:
            self.field = field


def reshow(render: Callable, form=None, field=None, wording: dict | None = None) -> None:
    """Say, before calling a service, how this request's page is shown again if the call is refused.

    `render(error)` returns the page (or a redirect, which is kept as it is); it runs after the
    rollback, so what it reads is fresh. The reason is shown next to the field of `form` the refusal
    names, else next to `field` (a form field) when given, else flashed. `wording`: {refusal class:
    sentence} for readers who should be told it differently (customers).
    """
    g.refusal_reshow = (render, form, field, wording or {})


def page_for(error: Refusal):
    """The HTML answer to a refusal (the session is already rolled back)."""
    render, form, field, wording = g.pop("refusal_reshow", (None, None, None, {}))
    if render is None:
        back = local_path_or(_same_site_path(request.referrer), "/")
        return render_template("errors/refused.html", status=error.status, reason=error.reason, back=back), error.status
    reason = next((text for kind, text in wording.items() if isinstance(error, kind)), error.reason)
    named = form[error.field] if form is not None and error.field and error.field in form else None
    if not _show_at(named or field, reason):
        flash(str(reason), "error")
    response = make_response(render(error))
    if not 300 <= response.status_code < 400:  # a redirect stays one: the flash shows on the next page
        response.status_code = error.status
    return response


def _show_at(field, reason) -> bool:
    if field is None or field.type in ("FieldList", "FormField"):  # their errors are per entry
        return False
    field.errors = [*field.errors, str(reason)]
    return True


def _same_site_path(url: str | None) -> str | None:
    """The path of a same-site referrer ("/tickets/C-…"), never another site's address."""
    parts = urlsplit(url or "")
    if not url or (parts.netloc and parts.netloc != request.host):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
