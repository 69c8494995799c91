"""Request bodies and small readers shared by the API tests."""

from datetime import timedelta

from sqlalchemy import func, select

from ticketing.cases.audit import Event
from ticketing.cases.models import Customer, Ticket
from ticketing.clock import utcnow
from ticketing.extensions import db

PROBLEM = "application/problem+json"


def complaint(**overrides) -> dict:
    """A valid body for POST /api/v1/tickets; `customer` entries override the customer's fields."""
    body = {
        "customer": {"name": "Li Lei", "email": "li.lei@example.com", "phone": "+86 138 0013 8000"},
        "subject": "Leaking kettle",
        "description": "The kettle leaks after two days.",
        "channel": "phone",
        "category": "product",
        "product": "Kettle K2",
        "priority": "high",
        "expectation": "A kettle that works",
    }
    body["customer"].update(overrides.pop("customer", {}))
    body.update(overrides)
    return body


LISTEN = {
    "customer_words": "The kettle leaks after two days.",
    "restatement": "You mean the new kettle leaks?",
    "restatement_confirmed": True,
    "expectation": "A working kettle",
    "emotion": "upset",
}
APOLOGISE = {"method": "phone", "wording": "We are sorry the kettle let you down."}
ANALYSE = {
    "root_cause": "product",
    "detail": "A faulty seal",
    "legitimacy": "justified",
    "responsibility": "company",
    "motive": "fix",
}
FOLLOW_UP = {"method": "phone", "outcome": "satisfied", "satisfaction": 5, "retention": "retained"}
REVIEW = {
    "summary": "Seal failed; kettle replaced.",
    "lesson": "Check seals at intake.",
    "preventive_action": "Supplier audit",
}


def propose(amount=50, **overrides) -> dict:
    """A proposal with one economic and one emotional compensation line."""
    body = {
        "method": "Replace the kettle",
        "promised_date": (utcnow() + timedelta(days=3)).date().isoformat(),
        "estimated_loss": str(amount),
        "compensation": [
            {"type": "refund", "amount": str(amount)},
            {"type": "apology_letter", "description": "Signed by the manager"},
        ],
    }
    body.update(overrides)
    return body


def create(api, **overrides) -> dict:
    """Create a case through the API; its answer."""
    response = api.post("/api/v1/tickets", json=complaint(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def read(api, reference) -> dict:
    response = api.get(f"/api/v1/tickets/{reference}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def act(api, reference, action, body=None, version=None):
    """Perform `action` with the version just read (or the one given); the raw response."""
    if version is None:
        version = read(api, reference)["version"]
    return api.post(f"/api/v1/tickets/{reference}/actions/{action}", json={"version": version, **(body or {})})


def problem(response, status: int) -> dict:
    """The RFC 9457 body of an error answer, after checking what every problem must carry."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("/api/v1/problems/") and body["title"]
    return body


def error_fields(response) -> set[str]:
    return {item["field"] for item in problem(response, 422)["errors"]}


def ticket_count() -> int:
    return db.session.scalar(select(func.count(Ticket.id)))


def customer_count() -> int:
    return db.session.scalar(select(func.count(Customer.id)))


def event_count() -> int:
    return db.session.scalar(select(func.count(Event.id)))
