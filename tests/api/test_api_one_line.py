"""The API refuses line breaks and control characters in a name or a subject (they become e-mail
headers and page titles), naming the field, and saves nothing."""

import pytest
from sqlalchemy import func, select

from tests.api.payloads import complaint
from tests.security.test_names_are_one_line import BAD
from ticketing.cases.models import Customer, Ticket
from ticketing.extensions import db


@pytest.mark.parametrize("field", ["name", "subject"])
@pytest.mark.parametrize("bad", BAD)
def test_the_api_refuses_the_name_and_subject(api, field, bad):
    body = complaint(customer={"name": bad}) if field == "name" else complaint(subject=bad)
    answer = api.post("/api/v1/tickets", json=body)
    assert answer.status_code == 422, answer.get_json()
    problem = answer.get_json()
    assert problem["errors"][0]["field"] == ("customer.name" if field == "name" else "subject")
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    assert db.session.scalar(select(func.count(Customer.id))) == 0
