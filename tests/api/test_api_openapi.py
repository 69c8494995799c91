"""The OpenAPI 3.1 document matches the API: every route documented, every answer valid against it."""

import copy
import re

import pytest
from flask_babel import force_locale, gettext
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.api.payloads import (
    ANALYSE,
    APOLOGISE,
    FOLLOW_UP,
    LISTEN,
    REVIEW,
    act,
    complaint,
    create,
    propose,
    read,
)
from tests.factories import open_case, to_step
from ticketing.api.actions import ACTIONS
from ticketing.api.views import PUBLIC
from ticketing.cases import services
from ticketing.cases.queries import find_ticket
from ticketing.cases.vocabulary import Priority, Status, Step
from ticketing.extensions import db

BASE = "urn:openapi"
SAMPLE = {"reference": "C-2026-000001", "customer_id": "1", "action": "note"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")  # public: no token needed to read the contract
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _closed(schemas: dict) -> dict:
    """The schemas with every object closed, so an undocumented field in an answer fails validation."""
    schemas = copy.deepcopy(schemas)

    def close(node):
        if isinstance(node, dict):
            if "properties" in node:
                node.setdefault("additionalProperties", False)
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schemas)
    return schemas


def validator(document, ref: str) -> Draft202012Validator:
    """A validator for `#/components/schemas/X`, its $refs resolved through a registry of the components."""
    resource = DRAFT202012.create_resource({"components": {"schemas": _closed(document["components"]["schemas"])}})
    registry = Registry().with_resource(BASE, resource)
    return Draft202012Validator({"$ref": BASE + ref}, registry=registry, format_checker=FormatChecker())


def conforms(document, method: str, path: str, status: int, response) -> dict:
    """The response has the `status` expected, and the document describes it for this operation:
    the status, the media type and the schema the body must validate against."""
    assert response.status_code == status, response.get_data(as_text=True)
    responses = document["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, which is not documented"
    [(media_type, content)] = responses[str(status)]["content"].items()
    assert response.mimetype == media_type
    body = response.get_json(force=True)
    errors = sorted(validator(document, content["schema"]["$ref"]).iter_errors(body), key=str)
    assert not errors, [f"{list(error.absolute_path)}: {error.message}" for error in errors]
    return body


def _template(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_the_document_is_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}


def test_every_api_route_is_documented(app, document):
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint in PUBLIC:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            path = _template(rule.rule)
            if "{action}" in path:  # the generic action route: one documented path per action
                routed |= {(path.replace("{action}", name), method.lower()) for name in ACTIONS}
            else:
                routed.add((path, method.lower()))
    documented = {(path, method) for path, methods in document["paths"].items() for method in methods}
    assert routed == documented


def test_every_documented_operation_is_routed_to_the_api(app, document):
    adapter = app.url_map.bind("localhost")
    for path, methods in document["paths"].items():
        concrete = re.sub(r"\{([^}]+)\}", lambda match: SAMPLE[match.group(1)], path)
        for method in methods:
            endpoint, arguments = adapter.match(concrete, method=method.upper())
            assert endpoint.startswith("api.") and endpoint not in PUBLIC, (method, path)
            if "/actions/" in path:
                assert endpoint == "api.act" and arguments["action"] in ACTIONS


def test_every_operation_has_a_unique_id_and_documents_401_and_429(document):
    operations = [op for methods in document["paths"].values() for op in methods.values()]
    assert len({op["operationId"] for op in operations}) == len(operations)
    assert all({"401", "429"} <= set(op["responses"]) for op in operations)


def test_the_list_parameters_are_the_filters_the_api_reads(document):
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/tickets"]["get"]["parameters"]}
    assert set(parameters) == {
        "step",
        "status",
        "priority",
        "category",
        "assignee_id",
        "created_since",
        "updated_since",
        "q",
        "limit",
        "cursor",
    }
    assert parameters["step"]["enum"] == [step.value for step in Step]
    assert parameters["status"]["enum"] == [status.value for status in Status]
    assert parameters["priority"]["enum"] == [priority.value for priority in Priority]
    # categories are data (GET /api/v1/catalogues), so the document names their type, not their codes
    assert (parameters["category"]["type"], parameters["category"]["maxLength"]) == ("string", 32)
    assert (parameters["limit"]["minimum"], parameters["limit"]["maximum"], parameters["limit"]["default"]) == (
        1,
        100,
        50,
    )


def _request_schema(document, path: str) -> str:
    return document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]


def test_the_request_bodies_the_api_accepts_validate_and_unknown_fields_do_not(document):
    creating = validator(document, _request_schema(document, "/api/v1/tickets"))
    assert creating.is_valid(complaint())
    assert not creating.is_valid(complaint(severity="high"))
    assert not creating.is_valid(complaint(channel="fax"))
    bodies = {
        "listen": LISTEN,
        "apologise": APOLOGISE,
        "analyse": ANALYSE,
        "propose": propose(250),
        "follow_up": FOLLOW_UP,
        "record_review": REVIEW,
        "note": {"body": "x"},
        "assign": {"assignee_id": 1},
    }
    for name, body in bodies.items():
        check = validator(document, _request_schema(document, f"/api/v1/tickets/{{reference}}/actions/{name}"))
        assert check.is_valid({"version": 1, **body}), name
        assert not check.is_valid({"version": 1, **body, "colour": "red"}), name


# --- real answers against the document -------------------------------------------

TICKETS, CASE = "/api/v1/tickets", "/api/v1/tickets/{reference}"


def test_creating_a_case_answers_as_documented(document, api, make_api, agent):
    key = {"Idempotency-Key": "a"}
    for _ in range(2):  # made, then replayed
        conforms(document, "post", TICKETS, 201, api.post(TICKETS, json=complaint(), headers=key))
    invalid = conforms(document, "post", TICKETS, 422, api.post(TICKETS, json=complaint(channel="fax", colour="red")))
    assert len(invalid["errors"]) == 2
    reused = conforms(document, "post", TICKETS, 422, api.post(TICKETS, json=complaint(subject="x"), headers=key))
    assert reused["type"] == "/api/v1/problems/idempotency-key-reused"
    conforms(document, "post", TICKETS, 400, api.post(TICKETS, json=complaint(), headers={"Idempotency-Key": " "}))
    conforms(document, "post", TICKETS, 400, api.post(TICKETS, data="{", headers={"Content-Type": "application/json"}))
    conforms(document, "post", TICKETS, 415, api.post(TICKETS, data="a=b"))
    conforms(document, "post", TICKETS, 403, make_api(agent, read_only=True).post(TICKETS, json=complaint()))
    conforms(document, "post", TICKETS, 401, api.client.post(TICKETS, json=complaint()))


def test_reading_answers_as_documented(document, api, agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review", approver=supervisor, amount=500)
    services.record_review(ticket, agent, version=ticket.version, summary="Done", lesson="Seals")
    services.return_review(ticket, supervisor, version=ticket.version, return_to="follow_up", reason="Call again")
    db.session.commit()
    ticket = find_ticket(ticket.reference)
    services.record_follow_up(
        ticket,
        agent,
        version=ticket.version,
        method="phone",
        outcome="unsatisfied",
        satisfaction=2,
        retention="lost",
        churn_type="competitive",
        churn_cause="price",
        return_to="resolve",
    )
    services.add_note(ticket, agent, body="Escalate")
    services.send_message(ticket, None, body="Still leaking")
    db.session.commit()
    for _ in range(2):
        open_case(agent)
    customers, events = "/api/v1/customers/{customer_id}", f"{CASE}/events"

    detail = conforms(document, "get", CASE, 200, api.get(f"{TICKETS}/{ticket.reference}"))
    assert all(detail["records"][step] for step in ("listen", "apologise", "analyse", "resolve", "follow_up", "review"))
    assert detail["notes"] and detail["messages"]
    conforms(document, "get", CASE, 404, api.get(f"{TICKETS}/C-2020-999999"))
    page = conforms(document, "get", TICKETS, 200, api.get(f"{TICKETS}?limit=2"))
    last = conforms(document, "get", TICKETS, 200, api.get(f"{TICKETS}?limit=2&cursor={page['next_cursor']}"))
    assert page["next_cursor"] is not None and last["next_cursor"] is None
    conforms(document, "get", TICKETS, 400, api.get(f"{TICKETS}?cursor=forged"))
    conforms(document, "get", TICKETS, 422, api.get(f"{TICKETS}?limit=0"))
    log = conforms(document, "get", events, 200, api.get(f"{TICKETS}/{ticket.reference}/events"))
    assert {event["actor"]["kind"] for event in log["items"]} == {"staff", "customer"}
    conforms(document, "get", events, 404, api.get(f"{TICKETS}/C-2020-999999/events"))
    customer = conforms(document, "get", customers, 200, api.get(f"/api/v1/customers/{detail['customer']['id']}"))
    assert len(customer["tickets"]) == 3
    conforms(document, "get", customers, 404, api.get("/api/v1/customers/99999999999"))


def test_acting_answers_as_documented(document, api, make_api, agent, supervisor):
    reference = create(api)["reference"]
    boss = make_api(supervisor)

    def path(name):
        return f"{CASE}/actions/{name}"

    for name, body in (("listen", LISTEN), ("apologise", APOLOGISE), ("analyse", ANALYSE), ("propose", propose(300))):
        conforms(document, "post", path(name), 200, act(api, reference, name, body))
    approve = path("approve_compensation")
    conforms(document, "post", approve, 422, act(api, reference, "approve_compensation", {}))  # agents may not
    conforms(document, "post", approve, 409, act(boss, reference, "approve_compensation", {}, version=1))
    conforms(document, "post", approve, 200, act(boss, reference, "approve_compensation", {}))
    note, unknown = path("note"), f"{TICKETS}/C-2020-999999/actions/note"
    conforms(document, "post", note, 404, api.post(unknown, json={"body": "x"}))
    conforms(document, "post", note, 422, api.post(f"{TICKETS}/{reference}/actions/note", json={"body": ""}))
    reader = make_api(agent, read_only=True)
    conforms(document, "post", note, 403, reader.post(f"{TICKETS}/{reference}/actions/note", json={"body": "x"}))
    message = conforms(
        document,
        "post",
        f"{CASE}/messages",
        201,
        api.post(f"{TICKETS}/{reference}/messages", json={"body": "On its way"}),
    )
    assert message["messages"][-1]["body"] == "On its way"
    assert read(api, reference)["resolution_state"] == "awaiting_customer"


def test_an_answer_unlike_the_document_would_be_caught(document, api):
    """The check above is not vacuous: an extra, a missing or a mistyped field fails it."""
    created = create(api)
    check = validator(document, "#/components/schemas/TicketCreated")
    assert check.is_valid(created)
    assert not check.is_valid(created | {"secret": "x"})
    assert not check.is_valid({key: value for key, value in created.items() if key != "version"})
    assert not check.is_valid(created | {"step": "done"})
    assert not check.is_valid(created | {"customer": created["customer"] | {"id": "1"}})


def test_a_rate_limited_answer_is_as_documented(app, document, api):
    app.config["API_RATE_LIMIT"] = "1 per minute"
    conforms(document, "get", TICKETS, 200, api.get(TICKETS))
    conforms(document, "get", TICKETS, 429, api.get(TICKETS))


# --- the readable page -------------------------------------------------------------


def _operations(document):
    return [
        (method.upper(), path, op["operationId"])
        for path, methods in document["paths"].items()
        for method, op in methods.items()
    ]


def test_the_reference_page_lists_every_operation(client, document):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and "API reference" in page
    for method, path, operation_id in _operations(document):
        assert f"{method} {path}" in page and f'id="{operation_id}"' in page, operation_id
    for name in ("TicketIn", "ProposeIn", "FollowUpIn"):
        assert f"<code>{name}</code>" in page


def test_the_reference_page_speaks_chinese(app, client, document):
    response = client.get("/api/v1/docs", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    for method, path, operation_id in _operations(document):
        assert f"{method} {path}" in page and f'id="{operation_id}"' in page
    english = ("API reference", "Using it", "Operations", "Parameters", "Request body", "Answers")
    with app.test_request_context(), force_locale("zh_CN"):
        chinese = [gettext(text) for text in english]
    assert [text for text, translated in zip(english, chinese) if text == translated] == []
    assert all(translated in page for translated in chinese)
