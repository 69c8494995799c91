"""One currency per desk: a proposal in another currency is refused with the reason, at every door."""

from datetime import timedelta

import pytest

from tests.factories import open_case, to_step
from ticketing.cases import services, settings
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db


def _propose(ticket, agent, currency):
    services.propose_resolution(
        ticket,
        agent,
        version=ticket.version,
        method="Refund",
        promised_date=(utcnow() + timedelta(days=3)).date(),
        currency=currency,
        lines=[{"type": "refund", "amount": 50}],
    )


def test_a_proposal_in_another_currency_is_refused_and_the_desks_is_taken(agent):
    ticket = to_step(open_case(agent), agent, "resolve")
    with pytest.raises(WorkflowError) as refused:
        _propose(ticket, agent, "USD")
    assert refused.value.field == "currency" and "CNY" in str(refused.value.reason)
    db.session.rollback()
    _propose(ticket, agent, "cny")
    db.session.commit()
    assert ticket.resolution_state == "awaiting_customer"


def test_the_desks_currency_is_the_one_the_settings_name(agent, make_user):
    admin = make_user("admin", "admin@example.com", "Ada Admin")
    settings.save(admin, {"currency": "EUR"}, utcnow())
    db.session.commit()
    ticket = to_step(open_case(agent), agent, "resolve")
    with pytest.raises(WorkflowError):
        _propose(ticket, agent, "CNY")
    db.session.rollback()
    _propose(ticket, agent, "EUR")
    db.session.commit()
    assert ticket.resolution_state == "awaiting_customer"
