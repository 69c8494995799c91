"""The search box on every staff page and its results page, as an agent uses them on the phone."""

import re
from datetime import date, datetime, timezone

import pytest
from flask_babel import force_locale

from tests.conftest import login
from ticketing.cases import services
from ticketing.extensions import db
from ticketing.i18n import day


def take(actor, name, phone, subject, description="It broke twice.", assignee=None):
    customer = services.find_or_create_customer(name, None, phone)
    ticket = services.take_complaint(
        actor, customer=customer, subject=subject, description=description, channel="phone"
    )
    if assignee is not None:
        ticket.assignee_id = assignee.id
    db.session.commit()
    return ticket


def references(page: str) -> list[str]:
    return re.findall(r'href="/tickets/(C-\d{4}-\d{6})"', page)


@pytest.fixture
def signed_in(client, agent):
    login(client, agent.email)
    return client


def test_every_staff_page_has_the_search_box_and_slash_focuses_it(signed_in, agent):
    ticket = take(agent, "David Brown", "+44 7700 900456", "Kettle")
    for url in ("/queue", "/intake", f"/tickets/{ticket.reference}", "/notifications/"):
        page = signed_in.get(url).get_data(as_text=True)
        assert 'action="/search"' in page and 'data-shortcut="/"' in page and 'name="q"' in page, url


def test_a_returning_caller_is_found_by_phone_typed_another_way(signed_in, agent):
    ticket = take(agent, "David Brown", "+44 7700 900456", "Kettle leaks")
    page = signed_in.get("/search?q=07700-900-456")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert references(text) == [ticket.reference]
    assert f'href="/customers/{ticket.customer_id}"' in text  # the customer's record is one click away
    assert "David Brown" in text and "Kettle leaks" in text


def test_a_chinese_word_finds_the_case_and_its_customer(signed_in, agent):
    ticket = take(agent, "王芳", "+86 138 0013 8000", "电饭煲", "内胆涂层脱落，煮饭粘锅。")
    text = signed_in.get("/search?q=涂层").get_data(as_text=True)
    assert references(text) == [ticket.reference]
    text = signed_in.get("/search?q=王芳").get_data(as_text=True)
    assert references(text) == [ticket.reference]
    assert "Customers" in text and f'href="/customers/{ticket.customer_id}"' in text


def test_a_whole_reference_opens_the_case(signed_in, agent):
    ticket = take(agent, "Li Lei", None, "Wrong colour")
    answer = signed_in.get(f"/search?q={ticket.reference.lower()}")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/tickets/{ticket.reference}")
    year, number = ticket.reference.split("-")[1:]
    answer = signed_in.get(f"/search?q={year}-{int(number)}")
    assert answer.headers["Location"].endswith(f"/tickets/{ticket.reference}")
    # A fragment lists it instead.
    assert references(signed_in.get(f"/search?q={number}").get_data(as_text=True)) == [ticket.reference]


def test_an_agent_finds_colleagues_cases_as_in_the_team_queue(signed_in, agent, make_user):
    colleague = make_user("agent", "colleague@example.com", "Col League")
    ticket = take(colleague, "Zhao Lei", None, "Router drops", assignee=colleague)
    text = signed_in.get("/search?q=router").get_data(as_text=True)
    assert references(text) == [ticket.reference] and "Col League" in text


def test_the_queue_filters_narrow_the_results(signed_in, agent):
    open_one = take(agent, "Ann", None, "Fridge noise")
    closed = take(agent, "Ben", None, "Fridge door")
    closed.status, closed.closed_at = "closed", datetime(2026, 11, 20, 10, tzinfo=timezone.utc)
    db.session.commit()
    text = signed_in.get("/search?q=fridge").get_data(as_text=True)
    assert references(text) == [open_one.reference, closed.reference]
    with force_locale("en"):
        assert f"closed on {day(date(2026, 11, 20))}" in text
    text = signed_in.get("/search?q=fridge&status=closed").get_data(as_text=True)
    assert references(text) == [closed.reference]
    text = signed_in.get("/search?q=fridge&status=closed&priority=urgent").get_data(as_text=True)
    assert references(text) == [] and "with these filters" in text


def test_nothing_found_and_too_little_typed_say_so(signed_in, agent):
    take(agent, "Ann", None, "Fridge noise")
    assert "No case matches “zebra”." in signed_in.get("/search?q=zebra").get_data(as_text=True)
    assert "Type at least two characters." in signed_in.get("/search?q=f").get_data(as_text=True)
    assert "a phone number, however it is written" in signed_in.get("/search").get_data(as_text=True)


def test_what_is_typed_is_shown_escaped(signed_in, agent):
    text = signed_in.get("/search?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text


def test_pages_of_results_follow_each_other(app, signed_in, agent):
    app.config["QUEUE_PAGE_SIZE"] = 2
    made = [take(agent, f"Caller {n}", None, "Noisy fridge").reference for n in range(5)]
    seen, url = [], "/search?q=fridge"
    while url:
        text = signed_in.get(url).get_data(as_text=True)
        seen += references(text)
        more = re.search(r'<a rel="next" href="([^"]+)"', text)
        url = more[1].replace("&amp;", "&") if more else None
    assert seen == list(reversed(made))


def test_the_search_page_speaks_chinese(client, make_user):
    user = make_user("agent", "zh@example.com", "王静", locale="zh_CN")
    take(user, "王芳", None, "电饭煲")
    login(client, user.email)
    text = client.get("/search?q=电饭").get_data(as_text=True)
    assert "搜索" in text and "客户" in text
    assert "Search results" not in text and "Customers" not in text
    assert "没有" in client.get("/search?q=不存在的词").get_data(as_text=True)


def test_internal_notes_never_reach_the_portal(client, agent):
    """The portal has no search; the customer's own page shows messages but never a note."""
    ticket = take(agent, "Ann", None, "Fridge noise")
    services.add_note(ticket, agent, body="Supplier walrus-42 is at fault")
    db.session.commit()
    for url in ("/complain", "/track", "/track/lost", "/track?q=walrus-42", "/search?q=walrus-42"):
        answer = client.get(url)
        assert b"is at fault" not in answer.data and ticket.reference.encode() not in answer.data, url
    assert client.get("/search?q=walrus-42").status_code == 302  # staff only: to the login page


def test_the_case_page_lists_the_customers_other_cases(signed_in, agent):
    first = take(agent, "David Brown", "+44 7700 900456", "Kettle leaks")
    others = [take(agent, "David Brown", "+44 7700 900456", f"Repeat problem {n}") for n in range(6)]
    others[0].status = "closed"
    db.session.commit()
    text = signed_in.get(f"/tickets/{first.reference}").get_data(as_text=True)
    listed = re.findall(r'<li><a href="/tickets/(C-\d{4}-\d{6})">', text)
    assert listed == [o.reference for o in reversed(others[1:])]  # open ones first, newest first, five shown
    assert "All 6 other cases on their record" in text
    lonely = take(agent, "Someone Else", "+86 139 0000 1111", "Only one")
    assert "Their other cases" not in signed_in.get(f"/tickets/{lonely.reference}").get_data(as_text=True)
