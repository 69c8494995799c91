"""POST /api/v1/tickets: a complaint from another system, and safe retries with an Idempotency-Key."""

import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.api.payloads import complaint, create, customer_count, problem, ticket_count
from ticketing.cases.models import Customer, Ticket
from ticketing.extensions import db

URL = "/api/v1/tickets"


def test_a_created_case_answers_201_with_reference_status_step_and_location(api, agent):
    response = api.post(URL, json=complaint())
    assert response.status_code == 201 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["reference"].startswith("C-") and body["status"] == "open" and body["step"] == "listen"
    assert body["resolution_state"] == "none" and body["version"] == 1
    assert response.headers["Location"] == f"/api/v1/tickets/{body['reference']}"
    assert "Idempotent-Replayed" not in response.headers
    assert (body["subject"], body["channel"], body["category"], body["priority"], body["product"]) == (
        "Leaking kettle",
        "phone",
        "product",
        "high",
        "Kettle K2",
    )
    assert body["customer"]["email"] == "li.lei@example.com" and body["customer"]["name"] == "Li Lei"


def test_a_created_case_lands_unassigned_in_step_listen_with_the_customers_words(api, agent):
    reference = create(api, expectation="A new kettle")["reference"]
    ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
    assert ticket.assignee_id is None and ticket.step == "listen" and ticket.status == "open"
    assert ticket.created_by_id == agent.id  # the token's owner took it in
    assert ticket.description == "The kettle leaks after two days."
    assert ticket.customer_expectation == "A new kettle"
    detail = api.get(f"{URL}/{reference}").get_json()
    assert detail["assignee"] is None and detail["records"]["listen"] == []


def test_the_tracking_url_opens_the_case_in_the_customers_portal(app, api):
    body = create(api)
    url = urlsplit(body["tracking_url"])
    assert url.path.startswith("/track/") and len(url.path) > len("/track/") + 20
    customer = app.test_client()  # a plain browser: no token, no staff session
    opened = customer.get(url.path)
    assert opened.status_code == 302 and opened.headers["Location"] == "/track"
    page = customer.get("/track")
    assert page.status_code == 200
    assert body["reference"] in page.get_data(as_text=True)


def test_a_second_complaint_by_email_finds_the_same_customer(api):
    first = create(api, customer={"phone": None})
    second = create(
        api, customer={"name": "Lei Li", "email": "LI.LEI@example.com", "phone": None}, subject="Late refund"
    )
    assert second["customer"]["id"] == first["customer"]["id"]
    assert second["reference"] != first["reference"] and customer_count() == 1


def test_a_second_complaint_by_phone_finds_the_same_customer(api):
    first = create(api, customer={"email": None, "phone": "+86 138 0013 8000"})
    second = create(api, customer={"email": None, "phone": "138-0013-8000"}, subject="Late refund")
    assert second["customer"]["id"] == first["customer"]["id"] and customer_count() == 1


def test_another_customer_gets_a_record_of_their_own(api):
    first = create(api)
    second = create(api, customer={"name": "Han Meimei", "email": "han@example.com", "phone": "+86 139 0000 0001"})
    assert second["customer"]["id"] != first["customer"]["id"] and customer_count() == 2


def test_the_same_idempotency_key_twice_makes_one_case_and_says_it_replayed(api):
    headers = {"Idempotency-Key": "order-4711-complaint"}
    first = api.post(URL, json=complaint(), headers=headers)
    again = api.post(URL, json=complaint(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["reference"] == first.get_json()["reference"]
    assert again.headers["Location"] == first.headers["Location"]
    assert ticket_count() == 1


def test_a_replayed_answer_still_carries_a_working_tracking_url(app, api):
    headers = {"Idempotency-Key": "retry-me"}
    api.post(URL, json=complaint(), headers=headers)
    again = api.post(URL, json=complaint(), headers=headers).get_json()
    customer = app.test_client()
    assert customer.get(urlsplit(again["tracking_url"]).path).status_code == 302
    assert again["reference"] in customer.get("/track").get_data(as_text=True)


def test_the_same_key_with_another_body_is_refused_and_saves_nothing(api):
    headers = {"Idempotency-Key": "k-1"}
    assert api.post(URL, json=complaint(), headers=headers).status_code == 201
    refused = api.post(URL, json=complaint(subject="Another complaint"), headers=headers)
    body = problem(refused, 422)
    assert body["type"] == "/api/v1/problems/idempotency-key-reused"
    assert "different request body" in body["title"]
    assert ticket_count() == 1


def test_idempotency_keys_belong_to_the_token_owner(api, make_api, make_user):
    other = make_api(make_user("agent", "bo@example.com", "Bo Agent"))
    headers = {"Idempotency-Key": "shared-key"}
    mine = api.post(URL, json=complaint(), headers=headers)
    theirs = other.post(URL, json=complaint(), headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["reference"] != mine.get_json()["reference"]
    assert ticket_count() == 2


def test_two_tokens_of_one_user_share_their_idempotency_keys(api, make_api, agent):
    second_token = make_api(agent)
    headers = {"Idempotency-Key": "one-owner"}
    first = api.post(URL, json=complaint(), headers=headers)
    again = second_token.post(URL, json=complaint(), headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["reference"] == first.get_json()["reference"] and ticket_count() == 1


def test_the_same_body_in_another_key_order_and_spacing_is_a_replay(api):
    body = complaint()
    headers = {"Idempotency-Key": "reordered", "Content-Type": "application/json"}
    first = api.post(URL, data=json.dumps(body), headers=headers)
    reordered = {key: body[key] for key in reversed(list(body))}
    reordered["customer"] = {key: body["customer"][key] for key in reversed(list(body["customer"]))}
    again = api.post(URL, data=json.dumps(reordered, indent=4), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["reference"] == first.get_json()["reference"] and ticket_count() == 1


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, "with space", "clé", "tab\there"])
def test_a_bad_idempotency_key_header_is_refused_with_400(api, key):
    response = api.post(URL, json=complaint(), headers={"Idempotency-Key": key})
    body = problem(response, 400)
    assert body["type"] == "/api/v1/problems/idempotency-key"
    assert ticket_count() == 0


def test_a_key_of_200_visible_characters_is_accepted(api):
    key = "k" * 199 + "~"
    first = api.post(URL, json=complaint(), headers={"Idempotency-Key": key})
    again = api.post(URL, json=complaint(), headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


def test_a_customer_given_in_chinese_keeps_their_language_for_e_mails(api):
    body = create(api, customer={"name": "王芳", "email": "wang.fang@example.com", "locale": "zh_CN"})
    customer = db.session.get(Customer, body["customer"]["id"])
    assert customer.name == "王芳" and customer.locale == "zh_CN"
