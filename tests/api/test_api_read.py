"""Reading through the API: the case list with filters and cursor paging, a case, its log, a customer."""

import base64
from decimal import Decimal
from urllib.parse import quote

import pytest

from tests.api.payloads import act, create, problem, propose, read
from tests.factories import LISTEN, open_case, to_step
from ticketing.cases import services
from ticketing.cases.queries import find_ticket
from ticketing.extensions import db

URL = "/api/v1/tickets"


def references(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["reference"] for item in response.get_json()["items"]]


def take(actor, subject, *, priority="normal", category=None, listen=False, assign=True):
    customer = services.find_or_create_customer("Li Lei", "li.lei@example.com", None)
    ticket = services.take_complaint(
        actor,
        customer=customer,
        subject=subject,
        description="What happened",
        channel="phone",
        priority=priority,
        category=category,
        listen=dict(LISTEN) if listen else None,
        assign=assign,
    )
    db.session.commit()
    return ticket.reference


@pytest.fixture
def cases(frozen_clock, agent, make_user):
    """Four cases an hour apart, each different in one way; the first is touched again last."""
    bo = make_user("agent", "bo@example.com", "Bo Agent")
    made = {"urgent_billing": take(agent, "Double charge", priority="urgent", category="billing")}
    frozen_clock.move(hours=1)
    made["heard_by_bo"] = take(bo, "Rude courier", category="delivery", listen=True)
    frozen_clock.move(hours=1)
    made["cancelled"] = take(agent, "Never mind", priority="low", category="product")
    ticket = find_ticket(made["cancelled"])
    services.cancel_case(ticket, agent, version=ticket.version, reason="Solved on the phone")
    db.session.commit()
    frozen_clock.move(hours=1)
    made["unassigned"] = take(agent, "Broken lid", category="product", assign=False)
    frozen_clock.move(hours=1)
    first = find_ticket(made["urgent_billing"])  # the first response changes the case (a note would not)
    services.send_message(first, agent, body="We have asked the bank about the double charge.")
    db.session.commit()
    return made | {"bo": bo}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["urgent_billing", "heard_by_bo", "cancelled", "unassigned"]),
        ("step=apologise", ["heard_by_bo"]),
        ("step=listen", ["urgent_billing", "cancelled", "unassigned"]),
        ("status=cancelled", ["cancelled"]),
        ("status=open", ["urgent_billing", "heard_by_bo", "unassigned"]),
        ("priority=urgent", ["urgent_billing"]),
        ("priority=low", ["cancelled"]),
        ("category=product", ["cancelled", "unassigned"]),
        ("category=delivery&step=apologise", ["heard_by_bo"]),
        ("category=service", []),
        ("status=open&priority=normal&category=product", ["unassigned"]),
    ],
)
def test_the_case_list_filters(api, cases, query, expected):
    assert references(api.get(f"{URL}?{query}")) == [cases[name] for name in expected]


def test_the_case_list_filters_by_assignee(api, cases, agent):
    assert references(api.get(f"{URL}?assignee_id={cases['bo'].id}")) == [cases["heard_by_bo"]]
    assert references(api.get(f"{URL}?assignee_id={agent.id}")) == [cases["urgent_billing"], cases["cancelled"]]
    assert references(api.get(f"{URL}?assignee_id=99999")) == []


def test_the_case_list_filters_by_creation_and_change_time(api, cases):
    # Created 09:00, 10:00, 11:00, 12:00 UTC; the first changed again at 13:00.
    assert references(api.get(f"{URL}?created_since=2026-11-24T10:00:00Z")) == [
        cases["heard_by_bo"],
        cases["cancelled"],
        cases["unassigned"],
    ]
    assert references(api.get(f"{URL}?created_since=2026-11-24T10:00:01Z")) == [cases["cancelled"], cases["unassigned"]]
    assert references(api.get(f"{URL}?updated_since=2026-11-24T12:30:00Z")) == [cases["urgent_billing"]]
    assert references(api.get(f"{URL}?updated_since=2026-11-24T11:00:00Z")) == [
        cases["urgent_billing"],
        cases["cancelled"],
        cases["unassigned"],
    ]
    assert references(api.get(f"{URL}?created_since=2026-11-25T00:00:00Z")) == []


def test_a_time_with_an_offset_is_read_as_the_right_instant(api, cases):
    beijing = quote("2026-11-24T19:00:00+08:00")  # 11:00 UTC
    assert references(api.get(f"{URL}?created_since={beijing}")) == [cases["cancelled"], cases["unassigned"]]


@pytest.mark.parametrize("value", ["2026-11-24T11:00:00", "2026-11-24", "1795504799"])
def test_a_time_without_its_offset_is_refused_rather_than_guessed(api, value):
    assert [error["field"] for error in problem(api.get(f"{URL}?updated_since={value}"), 422)["errors"]] == [
        "updated_since"
    ]


@pytest.mark.parametrize(
    "query, field",
    [
        ("step=nowhere", "step"),
        ("status=lost", "status"),
        ("priority=asap", "priority"),
        ("category=x", "category"),
        ("assignee_id=abc", "assignee_id"),
        ("assignee_id=0", "assignee_id"),
        ("created_since=yesterday", "created_since"),
        ("updated_since=9999-12-31T23:59:59Z", "updated_since"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
    ],
)
def test_a_bad_filter_is_a_422_naming_it(api, query, field):
    body = problem(api.get(f"{URL}?{query}"), 422)
    assert [error["field"] for error in body["errors"]] == [field]


def test_paging_with_a_cursor_sees_every_case_once_in_order(api, agent):
    made = [open_case(agent, listen=False).reference for _ in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        response = api.get(f"{URL}?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        page = response.get_json()
        assert len(page["items"]) <= 2
        seen += references(response)
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            break
    assert seen == made and pages == 3


def test_a_page_that_ends_exactly_at_the_last_case_has_no_next_cursor(api, agent):
    made = [open_case(agent, listen=False).reference for _ in range(4)]
    first = api.get(f"{URL}?limit=2").get_json()
    second = api.get(f"{URL}?limit=2&cursor={first['next_cursor']}").get_json()
    assert [item["reference"] for item in first["items"] + second["items"]] == made
    assert second["next_cursor"] is None


def test_paging_keeps_the_filters(api, agent):
    made = [
        open_case(agent, listen=False, priority=priority).reference
        for priority in ("high", "low", "high", "high", "low")
    ]
    first = api.get(f"{URL}?priority=high&limit=2").get_json()
    second = api.get(f"{URL}?priority=high&limit=2&cursor={first['next_cursor']}").get_json()
    assert [item["reference"] for item in first["items"] + second["items"]] == [made[0], made[2], made[3]]
    assert second["next_cursor"] is None


def _b64(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        "!!!",
        _b64("[1, 2]"),
        _b64('{"after": "1"}'),
        _b64('{"after": -1}'),
        _b64('{"after": 99999999999}'),
        _b64('{"before": 1}'),
        _b64('{"after": 1.5}'),
        _b64('{"after": true}'),
    ],
)
def test_a_forged_cursor_is_a_400(api, agent, cursor):
    open_case(agent)
    body = problem(api.get(f"{URL}?cursor={cursor}"), 400)
    assert body["type"] == "/api/v1/problems/bad-cursor"


def test_a_case_in_full_with_compensation_notes_and_messages(api, agent):
    ticket = to_step(open_case(agent), agent, "resolve")
    act(api, ticket.reference, "propose", propose(120))
    act(api, ticket.reference, "note", {"body": "VIP customer"})
    api.post(f"/api/v1/tickets/{ticket.reference}/messages", json={"body": "A refund is on its way."})
    case = read(api, ticket.reference)
    assert case["reference"] == ticket.reference and case["description"] == LISTEN["customer_words"]
    assert case["step"] == "resolve" and case["resolution_state"] == "awaiting_customer"
    assert case["version"] == ticket.version
    assert [
        len(case["records"][step]) for step in ("listen", "apologise", "analyse", "resolve", "follow_up", "review")
    ] == [1, 1, 1, 1, 0, 0]
    [resolution] = case["records"]["resolve"]
    assert resolution["method"] == "Replace the kettle" and Decimal(resolution["estimated_loss"]) == 120
    assert [(line["type"], line["currency"]) for line in resolution["compensation"]] == [
        ("refund", "CNY"),
        ("apology_letter", "CNY"),
    ]
    assert Decimal(resolution["compensation"][0]["amount"]) == Decimal("120")
    assert [note["body"] for note in case["notes"]] == ["VIP customer"]
    assert [message["body"] for message in case["messages"]] == ["A refund is on its way."]
    assert case["customer"]["name"] == "Li Lei" and case["assignee"]["id"] == agent.id
    assert "customer_accepts" in case["allowed_actions"] and "propose" not in case["allowed_actions"]


def test_a_reference_is_found_whatever_its_case(api, agent):
    ticket = open_case(agent)
    assert read(api, ticket.reference.lower())["reference"] == ticket.reference


def test_a_cases_events_in_order(api, agent):
    ticket = open_case(agent)
    act(api, ticket.reference, "note", {"body": "Checked stock"})
    response = api.get(f"{URL}/{ticket.reference}/events")
    items = response.get_json()["items"]
    assert [(e["seq"], e["action"]) for e in items] == [(1, "create"), (2, "listen"), (3, "note")]
    assert all(e["actor"] == {"kind": "staff", "name": agent.name} for e in items)
    assert items[0]["changes"]["reference"] == {"before": None, "after": ticket.reference}


def test_a_customers_own_words_show_as_from_the_customer(api, agent):
    ticket = open_case(agent)
    services.send_message(find_ticket(ticket.reference), None, body="Any news?")
    db.session.commit()
    [message] = read(api, ticket.reference)["messages"]
    assert message["from_customer"] is True and message["author"] is None
    last = api.get(f"{URL}/{ticket.reference}/events").get_json()["items"][-1]
    assert last["actor"] == {"kind": "customer", "name": None}


def test_a_customer_with_their_cases_newest_first(api, agent):
    first = create(api)
    second = create(api, subject="Late refund")
    create(api, customer={"name": "Han Meimei", "email": "han@example.com", "phone": "+86 139 0000 0001"})
    response = api.get(f"/api/v1/customers/{first['customer']['id']}")
    assert response.status_code == 200
    customer = response.get_json()
    assert customer["id"] == first["customer"]["id"] and customer["name"] == "Li Lei"
    assert customer["email"] == "li.lei@example.com" and customer["value_tier"] == "standard"
    assert [case["reference"] for case in customer["tickets"]] == [second["reference"], first["reference"]]


@pytest.mark.parametrize("customer_id", ["424242", "99999999999", "0", "-1", "abc", "1.5"])
def test_an_unknown_customer_is_a_404_not_a_500(api, customer_id):
    body = problem(api.get(f"/api/v1/customers/{customer_id}"), 404)
    assert body["type"] == "/api/v1/problems/not-found"
