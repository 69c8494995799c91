"""Errors of the API: problem+json for bad input, 401/403/404 without leaks, and the per-token rate limit."""

import pytest
from sqlalchemy import select

from tests.api.payloads import (
    LISTEN,
    PROBLEM,
    complaint,
    create,
    customer_count,
    error_fields,
    event_count,
    problem,
    ticket_count,
)
from tests.conftest import login
from ticketing.auth.services import set_active
from ticketing.auth.tokens import ApiToken, revoke
from ticketing.extensions import db

URL = "/api/v1/tickets"


# --- validation -----------------------------------------------------------------


def test_a_customer_without_email_or_phone_is_refused_with_a_field_error(api):
    response = api.post(URL, json=complaint(customer={"email": None, "phone": None}))
    body = problem(response, 422)
    assert body["type"] == "/api/v1/problems/validation" and body["detail"] == "Nothing was saved."
    [error] = body["errors"]
    assert error["field"] == "customer" and "email or a phone number" in error["message"]


def test_an_unknown_field_is_refused_not_ignored(api):
    response = api.post(URL, json=complaint(severity="high", customer={"age": 42}))
    errors = problem(response, 422)["errors"]
    assert {(e["field"], e["type"]) for e in errors} == {
        ("severity", "extra_forbidden"),
        ("customer.age", "extra_forbidden"),
    }


@pytest.mark.parametrize("field, value", [("channel", "fax"), ("priority", "asap"), ("category", "weather")])
def test_a_value_outside_its_list_names_the_field(api, field, value):
    response = api.post(URL, json=complaint(**{field: value}))
    [error] = problem(response, 422)["errors"]
    assert error["field"] == field and error["type"] == "enum"


@pytest.mark.parametrize(
    "body",
    [
        complaint(subject="Leaking\x00kettle"),
        complaint(description="\x00"),
        complaint(customer={"name": "Li\x00Lei"}),
        complaint(expectation="A kettle\x00"),
    ],
)
def test_a_nul_character_is_a_422_not_a_server_error(api, body):
    response = api.post(URL, json=body)
    [error] = problem(response, 422)["errors"]
    assert "NUL character" in error["message"]
    assert ticket_count() == 0


def test_every_invalid_field_is_listed_at_once(api):
    response = api.post(URL, json={"customer": {"name": ""}, "subject": "x" * 201, "channel": "fax"})
    assert error_fields(response) == {"customer.name", "subject", "description", "channel"}


def test_nothing_is_saved_after_a_422(api):
    create(api)
    tickets, customers, events = ticket_count(), customer_count(), event_count()
    response = api.post(URL, json=complaint(customer={"email": "new@example.com", "name": "New"}, channel="fax"))
    problem(response, 422)
    assert (ticket_count(), customer_count(), event_count()) == (tickets, customers, events)


@pytest.mark.parametrize(
    "action, body",
    [
        ("note", {"body": "a\x00b"}),
        ("cancel", {"version": 1, "reason": "\x00"}),
        ("listen", {"version": 1, **LISTEN, "place": "Shop\x00 3"}),
    ],
)
def test_a_nul_character_in_an_action_is_a_422_and_changes_nothing(api, action, body):
    reference = create(api)["reference"]
    events = event_count()
    response = api.post(f"{URL}/{reference}/actions/{action}", json=body)
    assert any("NUL character" in error["message"] for error in problem(response, 422)["errors"])
    assert event_count() == events


def test_malformed_json_is_a_400(api):
    response = api.post(URL, data='{"subject": "Leaking', headers={"Content-Type": "application/json"})
    assert problem(response, 400)["type"] == "/api/v1/problems/malformed-json"


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None])
def test_a_body_that_is_not_json_is_a_415(api, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.post(URL, data="subject=Leaking", headers=headers)
    assert problem(response, 415)["type"] == "/api/v1/problems/unsupported-media-type"
    assert ticket_count() == 0


def test_a_json_body_that_is_not_an_object_is_a_422(api):
    response = api.post(URL, json=["not", "an", "object"])
    problem(response, 422)
    assert ticket_count() == 0


def test_a_wrong_method_is_a_405_problem_naming_the_allowed_ones(api):
    reference = create(api)["reference"]
    response = api.get(f"{URL}/{reference}/messages")
    problem(response, 405)
    assert response.headers["Allow"].split(", ").count("POST") == 1


def test_an_unknown_api_address_is_a_404_problem(api):
    problem(api.get("/api/v1/nothing-here"), 404)


# --- authentication -------------------------------------------------------------


def _unauthenticated(response) -> dict:
    body = problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return body


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer tk_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500]
)
def test_no_token_or_a_wrong_one_is_a_401(client, api, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    _unauthenticated(client.get(URL, headers=headers))
    _unauthenticated(client.post(URL, json=complaint(), headers=headers))
    assert ticket_count() == 0


def test_a_revoked_token_is_a_401(api):
    assert api.get(URL).status_code == 200
    revoke(db.session.scalars(select(ApiToken)).one())
    db.session.commit()
    _unauthenticated(api.get(URL))


def test_the_token_of_a_disabled_user_is_a_401_until_the_user_is_enabled_again(api, agent, admin):
    assert api.get(URL).status_code == 200
    set_active(agent, False, acting=admin)
    db.session.commit()
    _unauthenticated(api.get(URL))
    set_active(agent, True, acting=admin)
    db.session.commit()
    assert api.get(URL).status_code == 200


def test_an_unknown_case_and_a_malformed_reference_get_the_same_404(api):
    create(api)
    answers = [api.get(f"{URL}/{reference}") for reference in ("C-2020-999999", "nonsense", "C-2026-1", "%00")]
    bodies = [problem(response, 404) for response in answers]
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["type"] == "/api/v1/problems/not-found"


@pytest.mark.parametrize(
    "suffix, method", [("", "get"), ("/events", "get"), ("/messages", "post"), ("/actions/note", "post")]
)
def test_every_case_address_answers_404_alike_for_a_case_that_does_not_exist(api, suffix, method):
    existing = create(api)["reference"]
    kwargs = {"json": {"body": "x"}} if method == "post" else {}
    assert getattr(api, method)(f"{URL}/{existing}{suffix}", **kwargs).status_code in (200, 201)
    unknown = getattr(api, method)(f"{URL}/C-2020-999999{suffix}", **kwargs)
    malformed = getattr(api, method)(f"{URL}/12345{suffix}", **kwargs)
    assert problem(unknown, 404) == problem(malformed, 404)


def test_without_a_token_an_existing_and_an_unknown_case_look_the_same(client, api):
    existing = create(api)["reference"]
    answers = [
        client.get(f"{URL}/{reference}{suffix}")
        for reference in (existing, "C-2020-999999")
        for suffix in ("", "/events")
    ]
    bodies = [_unauthenticated(response) for response in answers]
    assert all(response.get_data() == answers[0].get_data() for response in answers)
    assert bodies[0]["type"] == "/api/v1/problems/unauthenticated"
    posts = [client.post(f"{URL}/{reference}/actions/note", json={"body": "x"}) for reference in (existing, "C-2020-9")]
    assert [_unauthenticated(response) for response in posts][0] == bodies[0]
    assert posts[0].get_data() == posts[1].get_data()


def test_a_read_only_token_may_read_but_not_write(api, make_api, agent):
    created = create(api)
    reference, customer_id = created["reference"], created["customer"]["id"]
    reader = make_api(agent, read_only=True)
    for url in (URL, f"{URL}/{reference}", f"{URL}/{reference}/events", f"/api/v1/customers/{customer_id}"):
        assert reader.get(url).status_code == 200, url
    events = event_count()
    writes = [
        reader.post(URL, json=complaint()),
        reader.post(f"{URL}/{reference}/actions/note", json={"body": "A note"}),
        reader.post(f"{URL}/{reference}/messages", json={"body": "Hello"}),
    ]
    for response in writes:
        assert problem(response, 403)["type"] == "/api/v1/problems/read-only-token"
    assert ticket_count() == 1 and event_count() == events


def test_a_staff_session_cookie_without_a_token_is_a_401(app, agent, api):
    reference = create(api)["reference"]
    browser = app.test_client()
    assert login(browser, agent.email).status_code == 302
    assert browser.get("/queue").status_code == 200  # signed in for the HTML pages
    _unauthenticated(browser.get(f"{URL}/{reference}"))
    _unauthenticated(browser.post(f"{URL}/{reference}/actions/note", json={"body": "Sneaky"}))
    _unauthenticated(browser.post(URL, json=complaint()))
    assert ticket_count() == 1


def test_a_token_acts_as_its_owner(api, agent):
    reference = create(api)["reference"]
    api.post(f"{URL}/{reference}/actions/note", json={"body": "Called the shop"})
    [note] = api.get(f"{URL}/{reference}").get_json()["notes"]
    assert note["author"] == {"id": agent.id, "name": agent.name}


# --- rate limit -----------------------------------------------------------------


def test_requests_are_limited_per_token(app, api, make_api, make_user):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    other = make_api(make_user("agent", "bo@example.com", "Bo Agent"))
    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    limited = api.get(URL)
    assert problem(limited, 429)["type"] == "/api/v1/problems/rate-limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert other.get(URL).status_code == 200


def test_the_limit_counts_every_request_of_a_token_together(app, api):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    reference = create(api)["reference"]
    assert api.get(f"{URL}/{reference}").status_code == 200
    assert api.get(f"{URL}/{reference}/events").status_code == 200
    problem(api.post(URL, json=complaint(subject="Fourth request")), 429)
    assert ticket_count() == 1


def test_a_new_token_of_the_same_user_has_its_own_allowance(app, api, make_api, agent):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 429]
    assert make_api(agent).get(URL).status_code == 200


def test_problems_are_sent_with_the_problem_media_type(api):
    response = api.post(URL, json=complaint(channel="fax"))
    assert response.headers["Content-Type"] == PROBLEM
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("language, words", [("zh-CN,zh;q=0.9", "部分字段无效"), ("en", "Some fields are not valid")])
def test_problems_speak_the_callers_language_whatever_the_token_owners(api, language, words):
    response = api.post(URL, json=complaint(channel="fax"), headers={"Accept-Language": language})
    assert words in problem(response, 422)["title"]


@pytest.mark.parametrize("version", [True, "1", 1.0])
def test_a_version_must_be_a_json_integer(api, version):
    reference = create(api)["reference"]
    response = api.post(f"{URL}/{reference}/actions/note", json={"body": "Called back.", "version": version})
    [error] = problem(response, 422)["errors"]
    assert error["field"] == "version"


def test_made_up_tokens_share_one_allowance_per_address(app, client):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    answers = [client.get(URL, headers={"Authorization": f"Bearer tk_made-up-{n}"}).status_code for n in range(4)]
    assert answers == [401, 401, 401, 429]
