"""The OpenAPI 3.1 document, generated from the same models and action table the API runs on."""

from functools import lru_cache

from pydantic.json_schema import models_json_schema

from ticketing.api import catalogues as c
from ticketing.api import desk_settings as ds
from ticketing.api import resources as r
from ticketing.api import schemas as s
from ticketing.api.actions import ACTIONS
from ticketing.cases.actions import NEVER_STALE

PROBLEM_STATUSES = {
    400: "Malformed JSON, a bad cursor or a bad Idempotency-Key header.",
    401: "No token, or a token that is revoked, unknown or belongs to a disabled account.",
    403: "The token is read-only, or may not do this: changing the settings takes an administrator's token.",
    404: "No such case or customer (the same answer whether it never existed or is malformed).",
    409: "The case changed since you read it (stale `version`): read it again. Nothing was saved.",
    415: "The body is not JSON.",
    422: "Invalid fields (listed in `errors`), a refusal by the workflow (the reason in `detail`), "
    "or an Idempotency-Key reused with another body. Nothing was saved.",
    429: "Too many requests for this token; retry after the time in the Retry-After header.",
}

REFERENCE = {
    "name": "reference",
    "in": "path",
    "required": True,
    "description": "The case reference, C-2026-000123.",
    "schema": {"type": "string", "pattern": r"^[Cc]-[0-9]{4}-[0-9]{6,9}$"},
}


def _schemas() -> tuple[dict, dict]:
    inputs = [s.TicketIn, s.BodyIn, ds.SettingsIn, *{action.body for action in ACTIONS.values()}]
    outputs = [
        r.TicketCreated,
        r.TicketDetail,
        r.TicketPage,
        r.EventList,
        r.CustomerDetail,
        r.CustomerPage,
        c.Catalogues,
        ds.SettingsOut,
        r.Problem,
    ]
    keys, document = models_json_schema(
        [(m, "validation") for m in inputs] + [(m, "serialization") for m in outputs],
        ref_template="#/components/schemas/{model}",
    )
    refs = {model: ref["$ref"] for (model, _mode), ref in keys.items()}
    return refs, document.get("$defs", {})


def _json(ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": ref}}}


def _responses(refs: dict, ok: int, model, *problems: int) -> dict:
    responses = {str(ok): {"description": "Success.", "content": _json(refs[model])}}
    for status in sorted({401, 429, *problems}):
        responses[str(status)] = {
            "description": PROBLEM_STATUSES[status],
            "content": {"application/problem+json": {"schema": {"$ref": refs[r.Problem]}}},
        }
    return responses


def _body(refs: dict, model) -> dict:
    return {"required": True, "content": _json(refs[model])}


def _query_parameters(model=s.TicketFilters) -> list[dict]:
    """The list filters as simple query parameters (no JSON null in a query string)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    parameters = []
    for name, prop in schema["properties"].items():
        choices = [option for option in prop.get("anyOf", [prop]) if option.get("type") != "null"]
        simple = {key: value for key, value in choices[0].items() if key != "title"}
        if "$ref" in simple:  # an enum: inline its values
            simple = {
                key: value
                for key, value in schema["$defs"][simple["$ref"].rsplit("/", 1)[1]].items()
                if key in ("type", "enum")
            }
        if name == "limit":
            simple["default"] = prop["default"]
        parameter = {"name": name, "in": "query", "required": name in schema.get("required", ()), "schema": simple}
        if "description" in prop:
            parameter["description"] = prop["description"]
        parameters.append(parameter)
    return parameters


def _action_path(refs: dict, name: str, action) -> dict:
    return {
        "post": {
            "operationId": f"action_{name}",
            "summary": action.summary,
            "tags": ["actions"],
            "parameters": [REFERENCE],
            "requestBody": _body(refs, action.body),
            "responses": _responses(refs, 200, r.TicketDetail, *_refusals(name)),
        }
    }


def _refusals(action: str) -> tuple:
    """The error answers of an action: a stale version (409) only where the action can be stale."""
    return (400, 403, 404, 415, 422) if action in NEVER_STALE else (400, 403, 404, 409, 415, 422)


@lru_cache(maxsize=1)
def document() -> dict:
    refs, components = _schemas()
    paths = {
        "/api/v1/tickets": {
            "post": {
                "operationId": "createTicket",
                "summary": "Take a complaint from another system",
                "tags": ["cases"],
                "description": "Opens a case in the team queue. Send an `Idempotency-Key` to retry safely: the "
                "same key and body answer the same case (with `Idempotent-Replayed: true`).",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
                    }
                ],
                "requestBody": _body(refs, s.TicketIn),
                "responses": _responses(refs, 201, r.TicketCreated, 400, 403, 415, 422),
            },
            "get": {
                "operationId": "listTickets",
                "summary": "List cases, oldest first, a page at a time; or search them with `q`",
                "tags": ["cases"],
                "parameters": _query_parameters(),
                "responses": _responses(refs, 200, r.TicketPage, 400, 422),
            },
        },
        "/api/v1/tickets/{reference}": {
            "get": {
                "operationId": "getTicket",
                "summary": "A case with its step records, messages, notes and version",
                "tags": ["cases"],
                "parameters": [REFERENCE],
                "responses": _responses(refs, 200, r.TicketDetail, 404),
            }
        },
        "/api/v1/tickets/{reference}/messages": {
            "post": {
                "operationId": "postMessage",
                "summary": "Send a message the customer sees",
                "tags": ["cases"],
                "parameters": [REFERENCE],
                "requestBody": _body(refs, s.BodyIn),
                "responses": _responses(refs, 201, r.TicketDetail, *_refusals("message")),
            }
        },
        "/api/v1/tickets/{reference}/events": {
            "get": {
                "operationId": "listEvents",
                "summary": "The case's record log, hash-chained",
                "tags": ["cases"],
                "parameters": [REFERENCE],
                "responses": _responses(refs, 200, r.EventList, 404),
            }
        },
        **{
            f"/api/v1/tickets/{{reference}}/actions/{name}": _action_path(refs, name, action)
            for name, action in ACTIONS.items()
        },
        "/api/v1/customers": {
            "get": {
                "operationId": "searchCustomers",
                "summary": "Find customers by name, e-mail, phone or external id",
                "tags": ["customers"],
                "description": "The customer with that exact phone or e-mail comes first, then the newest.",
                "parameters": _query_parameters(s.CustomerFilters),
                "responses": _responses(refs, 200, r.CustomerPage, 400, 422),
            }
        },
        "/api/v1/customers/{customer_id}": {
            "get": {
                "operationId": "getCustomer",
                "summary": "A customer with their cases, newest first",
                "tags": ["customers"],
                "parameters": [
                    {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
                ],
                "responses": _responses(refs, 200, r.CustomerDetail, 404),
            }
        },
        "/api/v1/catalogues": {
            "get": {
                "operationId": "listCatalogues",
                "summary": "The categories, products and value tiers, with their codes and names",
                "tags": ["catalogues"],
                "description": "The codes a case's `category`, `product_code` and a customer's `value_tier` "
                "take, each with its English and Chinese name; retired entries too (`active: false`), "
                "and merged products with the product they were merged into.",
                "responses": _responses(refs, 200, c.Catalogues),
            }
        },
        "/api/v1/settings": {
            "get": {
                "operationId": "getSettings",
                "summary": "The desk's settings: each with its value, section and whether you may change it",
                "tags": ["settings"],
                "responses": _responses(refs, 200, ds.SettingsOut),
            },
            "patch": {
                "operationId": "changeSettings",
                "summary": "Change some of the desk's settings (administrators' tokens only)",
                "tags": ["settings"],
                "description": "Send only the settings to change. Every value is checked before anything is "
                "saved: one refused value (422, the setting named in `errors`) saves none. Each change is "
                "recorded with who and when, and is in force at the next request everywhere.",
                "requestBody": _body(refs, ds.SettingsIn),
                "responses": _responses(refs, 200, ds.SettingsOut, 400, 403, 415, 422),
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Service Recovery Desk API",
            "version": "1.0.0",
            "description": "Complaints in from other systems; cases, their six handling steps and the "
            "record log out. Authenticate with a personal API token: "
            "`Authorization: Bearer tk_…`. Errors are RFC 9457 problem details.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }


# --- the readable page -----------------------------------------------------------


def _type_text(prop: dict) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[1]
    if "anyOf" in prop:
        return " | ".join(_type_text(option) for option in prop["anyOf"])
    if "enum" in prop:
        return " | ".join(str(value) for value in prop["enum"])
    if prop.get("type") == "array":
        return f"list of {_type_text(prop.get('items', {}))}"
    kind = prop.get("type", "any")
    return f"{kind} ({prop['format']})" if "format" in prop else kind


def schema_fields(name: str) -> list[dict]:
    """The fields of a component schema, as rows for the reference page."""
    schema = document()["components"]["schemas"].get(name, {})
    if "enum" in schema:
        return [
            {"name": "", "type": _type_text(schema), "required": True, "description": schema.get("description", "")}
        ]
    required = set(schema.get("required", []))
    return [
        {
            "name": field,
            "type": _type_text(prop),
            "required": field in required,
            "description": prop.get("description", ""),
        }
        for field, prop in schema.get("properties", {}).items()
    ]


def operations() -> list[dict]:
    """Every operation with its parameters, body and answers, in document order."""
    rows = []
    for path, methods in document()["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": op["operationId"],
                    "summary": op["summary"],
                    "description": op.get("description", ""),
                    "parameters": op.get("parameters", []),
                    "body": body.get("$ref", "").rsplit("/", 1)[-1] or None,
                    "responses": [
                        (code, answer["description"], _type_text(next(iter(answer["content"].values()))["schema"]))
                        for code, answer in op["responses"].items()
                    ],
                }
            )
    return rows
