"""A name or a subject becomes an e-mail header and a page title: every entry refuses line breaks and
control characters in it, with a message, and saves nothing (the desk and the portal here; the API
in tests/api/test_api_one_line.py)."""

import pytest
from sqlalchemy import func, select

from tests.conftest import login
from ticketing.cases.models import Customer, Ticket
from ticketing.extensions import db

BAD = ["Li\r\nBcc: victim@example.com", "Li\nLei", "Li\x0bLei", "Li\x0cLei", "Li\x00Lei"]


def _nothing_saved():
    return (
        db.session.scalar(select(func.count(Ticket.id))) == 0
        and db.session.scalar(select(func.count(Customer.id))) == 0
    )


@pytest.mark.parametrize("name", BAD)
def test_the_portal_refuses_the_name(client, name):
    answer = client.post(
        "/complain",
        data={"name": name, "email": "li.lei@example.com", "what_happened": "The kettle leaks after two days."},
    )
    assert answer.status_code == 422 and _nothing_saved()


@pytest.mark.parametrize("name", BAD)
def test_the_desk_intake_refuses_the_name(client, agent, name):
    login(client, agent.email)
    answer = client.post(
        "/intake",
        data={
            "customer_name": name,
            "customer_phone": "139 1111 2222",
            "subject": "Kettle",
            "channel": "phone",
            "priority": "normal",
            "customer_words": "It leaks.",
        },
    )
    assert answer.status_code == 422 and _nothing_saved()


@pytest.mark.parametrize(
    "name", ["Win a prize at evil.example/claim", "Li Lei <boss@x.example>", "Call 138 0013 8000", "L" * 81, "-- Li"]
)
def test_the_portal_takes_names_only_so_nobody_can_make_us_mail_their_message(client, name):
    """Anyone can send the portal's form with any e-mail address, and the confirmation greets the name."""
    answer = client.post(
        "/complain",
        data={"name": name, "email": "victim@example.com", "what_happened": "The kettle leaks after two days."},
    )
    assert answer.status_code == 422 and _nothing_saved()
    assert "Give your name in letters" in answer.get_data(as_text=True)


@pytest.mark.parametrize("name", ["Li Lei", "王芳", "Zoë O'Brien-Smith", "محمد علي", "J. R. R. Tolkien", "欧阳·娜娜"])
def test_real_names_in_any_script_are_taken(client, name):
    answer = client.post(
        "/complain",
        data={"name": name, "email": "li.lei@example.com", "what_happened": "The kettle leaks after two days."},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
