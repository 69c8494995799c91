"""`GET /api/v1/tickets?q=` and `GET /api/v1/customers?q=`: the search box's matching, paged."""

from ticketing.cases import services
from ticketing.cases.customers import merge_customers
from ticketing.extensions import db

TICKETS, CUSTOMERS = "/api/v1/tickets", "/api/v1/customers"


def take(actor, name, phone, subject, description="It broke."):
    customer = services.find_or_create_customer(name, None, phone)
    ticket = services.take_complaint(
        actor, customer=customer, subject=subject, description=description, channel="phone"
    )
    db.session.commit()
    return ticket


def references(answer):
    assert answer.status_code == 200, answer.get_json()
    return [item["reference"] for item in answer.get_json()["items"]]


def test_tickets_by_phone_chinese_words_and_reference(api, agent):
    wang = take(agent, "王芳", "+86 138 0013 8000", "电饭煲", "内胆涂层脱落，煮饭粘锅。")
    brown = take(agent, "David Brown", "+44 7700 900456", "Kettle leaks")
    assert references(api.get(f"{TICKETS}?q=138-0013-8000")) == [wang.reference]
    assert references(api.get(f"{TICKETS}?q=涂层脱落")) == [wang.reference]
    assert references(api.get(f"{TICKETS}?q={brown.reference[-6:]}")) == [brown.reference]
    assert references(api.get(f"{TICKETS}?q=brown&status=closed")) == []  # the other filters apply
    assert references(api.get(f"{TICKETS}?q=nothing-like-it")) == []


def test_internal_notes_are_searchable_for_staff_tokens(api, agent):
    ticket = take(agent, "Li Lei", None, "Wrong colour")
    services.add_note(ticket, agent, body="Warehouse 7 mislabels blue kettles")
    db.session.commit()
    assert references(api.get(f"{TICKETS}?q=mislabels")) == [ticket.reference]


def test_search_pages_with_its_own_cursor(api, agent):
    made = [take(agent, f"Caller {n}", None, "Noisy fridge").reference for n in range(5)]
    seen, url = [], f"{TICKETS}?q=fridge&limit=2"
    while url:
        body = api.get(url).get_json()
        seen += [item["reference"] for item in body["items"]]
        url = f"{TICKETS}?q=fridge&limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert seen == list(reversed(made))  # all open: newest first, none twice
    assert api.get(f"{TICKETS}?q=fridge&cursor=forged").status_code == 400


def test_bad_search_text_is_refused_clearly(api):
    for bad in ("%00", " ", "x" * 201):
        answer = api.get(f"{TICKETS}?q={bad}")
        assert answer.status_code == 422
        assert answer.get_json()["errors"][0]["field"] == "q"


def test_customers_by_name_phone_and_paging(api, agent):
    take(agent, "王芳", "+86 138 0013 8000", "电饭煲")
    for n in range(3):
        take(agent, f"Ann Baker {n}", f"0755-8888 12{n}{n}", "Parcel")
    names = lambda answer: [item["name"] for item in answer.get_json()["items"]]  # noqa: E731
    assert names(api.get(f"{CUSTOMERS}?q=13800138000")) == ["王芳"]
    assert names(api.get(f"{CUSTOMERS}?q=王芳")) == ["王芳"]
    first = api.get(f"{CUSTOMERS}?q=baker&limit=2").get_json()
    assert [c["name"] for c in first["items"]] == ["Ann Baker 2", "Ann Baker 1"]
    rest = api.get(f"{CUSTOMERS}?q=baker&limit=2&cursor={first['next_cursor']}").get_json()
    assert [c["name"] for c in rest["items"]] == ["Ann Baker 0"] and rest["next_cursor"] is None
    assert api.get(CUSTOMERS).status_code == 422  # q is required
    assert first["items"][0]["value_tier"] == "standard"


def test_search_needs_a_token(client):
    assert client.get(f"{TICKETS}?q=anything").status_code == 401
    assert client.get(f"{CUSTOMERS}?q=anything").status_code == 401


def test_a_merged_record_names_the_one_it_was_merged_into(api, agent):
    kept = take(agent, "Li Lei", "+86 138 0013 8000", "Kettle").customer
    duplicate = take(agent, "Li L.", "+86 139 0000 0000", "Kettle again").customer
    merge_customers(
        kept, duplicate, agent, survivor_version=kept.version, duplicate_version=duplicate.version, reason="Same person"
    )
    db.session.commit()
    body = api.get(f"{CUSTOMERS}/{duplicate.id}").get_json()
    assert body["merged_into_id"] == kept.id and body["tickets"] == []
    assert api.get(f"{CUSTOMERS}/{kept.id}").get_json()["merged_into_id"] is None
    assert [c["name"] for c in api.get(f"{CUSTOMERS}?q=li").get_json()["items"]] == ["Li Lei"]  # not the duplicate
