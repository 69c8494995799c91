"""The JSON API v1: thin views that parse, call one service, commit and answer JSON."""

import re

from flask import Blueprint, current_app, g, json, render_template, request, url_for
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ticketing.api import auth, catalogues, idempotency, queries, resources
from ticketing.api.actions import ACTIONS
from ticketing.api.desk_settings import SettingsIn, answer, changes, may_write
from ticketing.api.docs_text import code, page_text
from ticketing.api.openapi import document as openapi_document
from ticketing.api.openapi import operations, schema_fields
from ticketing.api.problems import ApiProblem, InvalidInput, invalid
from ticketing.api.schemas import MAX_ID, BodyIn, CustomerFilters, TicketFilters, TicketIn
from ticketing.auth import security_log
from ticketing.cases import customers, services, settings
from ticketing.cases.models import Customer, Ticket
from ticketing.cases.portal_access import issue_token
from ticketing.cases.queries import find_ticket
from ticketing.cases.settings import desk
from ticketing.clock import utcnow
from ticketing.extensions import db, limiter
from ticketing.i18n import gettext as _

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC = {"api.openapi", "api.docs"}
REFERENCE = re.compile(r"^C-\d{4}-\d{6,9}$", re.IGNORECASE)

# One allowance per token across every API route (not one per route).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=auth.rate_limit_key)(bp)


@bp.before_request
def _authenticate():
    if request.endpoint not in PUBLIC:
        auth.authenticate()


@bp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _json(model, status: int = 200, headers=None):
    return current_app.response_class(
        json.dumps(model.model_dump(mode="json")), status=status, mimetype="application/json", headers=headers
    )


def _parse(model):
    if not request.is_json:
        raise ApiProblem(415, "unsupported-media-type", _("Send JSON (Content-Type: application/json)."))
    try:
        return model.model_validate_json(request.get_data())
    except ValidationError as error:
        raise InvalidInput(error) from None


def _case(reference: str) -> Ticket:
    """The case, or the same 404 for a malformed and an unknown reference."""
    ticket = find_ticket(reference) if REFERENCE.match(reference) else None
    if ticket is None:
        raise ApiProblem(404, "not-found", _("There is no case with that reference."))
    return ticket


@bp.post("/tickets")
def create_ticket():
    body = _parse(TicketIn)
    key = idempotency.key_from_request()
    digest = idempotency.body_hash(body)
    earlier = idempotency.earlier_case(g.api_user, key, digest) if key else None
    if earlier is not None:
        return _replay(earlier)
    ticket = _take(body)
    if key:
        idempotency.remember(g.api_user, key, digest, ticket)
    # The answer's fields are taken from what was just flushed: nothing is read back after the commit.
    fields = resources.created(ticket, _tracking_url(issue_token(ticket)))
    try:
        db.session.commit()  # the case, its link and the key: all or nothing
    except IntegrityError:  # the same key, sent twice at the same moment: the other request won
        db.session.rollback()
        earlier = idempotency.earlier_case(g.api_user, key, digest) if key else None
        if earlier is None:
            raise
        return _replay(earlier)
    return _json(fields, 201, {"Location": url_for("api.get_ticket", reference=fields.reference)})


def _take(body: TicketIn) -> Ticket:
    person = body.customer
    customer = services.find_or_create_customer(person.name, person.email, person.phone, locale=person.locale)
    customers.set_tier_at_intake(customer, g.api_user, person.value_tier)
    ticket = services.take_complaint(
        g.api_user,
        customer=customer,
        subject=body.subject,
        description=body.description,
        channel=body.channel,
        category=body.category,
        product=body.product,
        priority=body.priority,
        customer_expectation=body.expectation,
        assign=False,
    )
    return ticket


def _replay(ticket: Ticket):
    """The earlier answer again, with a fresh private link (links are stored hashed, never kept)."""
    token = issue_token(ticket)
    db.session.commit()
    return _created(ticket, token, {"Idempotent-Replayed": "true"})


def _tracking_url(token: str) -> str:
    return url_for("portal.open_link", token=token, _external=True)


def _created(ticket: Ticket, token: str, headers=None):
    headers = {"Location": url_for("api.get_ticket", reference=ticket.reference), **(headers or {})}
    return _json(resources.created(ticket, _tracking_url(token)), 201, headers)


@bp.get("/tickets")
def list_tickets():
    try:
        filters = TicketFilters.model_validate(request.args.to_dict())
    except ValidationError as error:
        return invalid(error, where="query")
    page = queries.ticket_page(filters)
    if page is None:
        raise ApiProblem(400, "bad-cursor", _("The cursor is not one this API gave out."))
    return _json(page)


@bp.get("/tickets/<reference>")
def get_ticket(reference):
    ticket = _case(reference)
    return _json(resources.detail(ticket, g.api_user, desk().compensation_limits))


@bp.post("/tickets/<reference>/actions/<action>")
def act(reference, action):
    spec = ACTIONS.get(action)
    if spec is None:
        raise ApiProblem(404, "unknown-action", _("There is no such action."))
    body = _parse(spec.body)
    return _perform(_case(reference), spec.perform, body)


@bp.post("/tickets/<reference>/messages")
def post_message(reference):
    body = _parse(BodyIn)
    return _perform(_case(reference), ACTIONS["message"].perform, body, status=201)


def _perform(ticket, perform, body, status: int = 200):
    """A refused or stale action is answered by the error handlers (setup.configure_errors)."""
    perform(ticket, g.api_user, body)
    db.session.commit()
    return _json(resources.detail(ticket, g.api_user, desk().compensation_limits), status)


@bp.get("/tickets/<reference>/events")
def list_events(reference):
    ticket = _case(reference)
    return _json(resources.EventList(items=[resources.event(row) for row in queries.events(ticket)]))


@bp.get("/customers")
def list_customers():
    try:
        filters = CustomerFilters.model_validate(request.args.to_dict())
    except ValidationError as error:
        return invalid(error, where="query")
    page = queries.customer_page(filters)
    if page is None:
        raise ApiProblem(400, "bad-cursor", _("The cursor is not one this API gave out."))
    return _json(page)


@bp.get("/customers/<int:customer_id>")
def get_customer(customer_id):
    customer = db.session.get(Customer, customer_id) if customer_id <= MAX_ID else None
    if customer is None:
        raise ApiProblem(404, "not-found", _("There is no customer with that id."))
    tickets = db.session.scalars(
        select(Ticket)
        .options(joinedload(Ticket.assignee))
        .where(Ticket.customer_id == customer.id)
        .order_by(Ticket.id.desc())
    )
    return _json(resources.customer_detail(customer, list(tickets)))


@bp.get("/catalogues")
def list_catalogues():
    return _json(catalogues.catalogues())


@bp.get("/settings")
def read_settings():
    """The desk's settings, for any staff token; each read is a settings export in the security log."""
    details = {"via": "api", "token": g.api_token.hint}
    security_log.record(security_log.Kind.SETTINGS_EXPORTED, actor=g.api_user, details=details)
    db.session.commit()
    return _json(answer(g.api_user, g.api_token))


@bp.patch("/settings")
def change_settings():
    """Admin tokens only; a value the store refuses is a 422 naming the setting, and nothing is saved."""
    if not may_write(g.api_user, g.api_token):
        raise ApiProblem(403, "forbidden", _("Only an administrator's token may change the settings."))
    body = _parse(SettingsIn)
    changed = settings.save(g.api_user, changes(body), utcnow())
    db.session.commit()
    return _json(answer(g.api_user, g.api_token, changed))


@bp.get("/openapi.json")
def openapi():
    return current_app.response_class(json.dumps(openapi_document()), mimetype="application/json")


@bp.get("/docs")
def docs():

    return render_template(
        "api/docs.html",
        doc=openapi_document(),
        operations=operations(),
        schema_fields=schema_fields,
        page_text=page_text,
        code=code,
    )
