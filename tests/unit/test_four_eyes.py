"""Four eyes: nobody approves a case they handled or compensation they proposed; a supervisor's own offer
above an agent's limit waits for another approver; a one-person desk may allow it, recorded on each case."""

from decimal import Decimal

import pytest
from flask_babel import force_locale

from tests.conftest import login
from tests.factories import LISTEN, open_case, propose, to_step
from tests.unit.helpers import assert_refused_and_unchanged, last_event
from ticketing.cases import services, settings
from ticketing.cases.log_text import describe
from ticketing.cases.settings import SettingError
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db

SELF_REVIEW = (
    "Four eyes: you handled this case (listened, analysed, proposed, followed up or recorded the review), "
    "so another supervisor approves its review."
)
SELF_APPROVAL = "Four eyes: you proposed this compensation, so another supervisor approves it."
SATISFIED = {"method": "phone", "outcome": "satisfied", "satisfaction": 5, "retention": "retained"}


@pytest.fixture
def colleague(make_user):
    """A second supervisor: the other pair of eyes."""
    return make_user("supervisor", "second@example.com", "Sue Second")


def one_person_desk(admin, on=True):
    settings.save(admin, {"one_person_desk": on}, utcnow())
    db.session.commit()


def handled_alone(actor, amount="4900"):
    """The issue's case: a supervisor takes a case for themselves and does every step to the proposal
    (an estimated loss as large as the offer, so only the limits decide)."""
    ticket = open_case(actor, listen=False)
    services.assign_case(ticket, actor, version=ticket.version, assignee=actor)
    services.record_listening(ticket, actor, version=ticket.version, **LISTEN)
    db.session.commit()
    to_step(ticket, actor, "resolve")
    propose(ticket, actor, amount=Decimal(amount))
    return ticket


def to_review(ticket, actor):
    """The customer accepts; `actor` carries it out, follows up and records the review."""
    services.record_customer_answer(ticket, actor, version=ticket.version, accepted=True)
    services.carry_out_resolution(ticket, actor, version=ticket.version)
    services.record_follow_up(ticket, actor, version=ticket.version, **SATISFIED)
    services.record_review(ticket, actor, version=ticket.version, summary="Refunded", lesson="Check seals")
    db.session.commit()


def test_a_supervisors_own_offer_above_an_agents_limit_waits_and_they_cannot_approve_it(supervisor, colleague):
    ticket = handled_alone(supervisor)
    assert ticket.resolution_state == "awaiting_approval"  # 4,900 is within their own 5,000, not an agent's 200
    assert last_event(ticket).changes["waiting_for"] == [None, ["second_approver"]]
    assert_refused_and_unchanged(
        ticket,
        lambda: services.approve_compensation(ticket, supervisor, version=ticket.version),
        WorkflowError,
        SELF_APPROVAL,
    )
    services.approve_compensation(ticket, colleague, version=ticket.version)
    db.session.commit()
    assert ticket.resolution_state == "awaiting_customer"
    assert {line.approved_by_id for line in services.current_resolution(ticket).lines} == {colleague.id}


def test_an_administrators_own_offer_waits_for_another_approver_too(admin, colleague):
    ticket = handled_alone(admin, amount="300")
    assert ticket.resolution_state == "awaiting_approval"
    assert_refused_and_unchanged(
        ticket,
        lambda: services.approve_compensation(ticket, admin, version=ticket.version),
        WorkflowError,
        SELF_APPROVAL,
    )


def test_whoever_handled_the_case_cannot_approve_its_review(supervisor, colleague):
    ticket = handled_alone(supervisor)
    services.approve_compensation(ticket, colleague, version=ticket.version)
    to_review(ticket, supervisor)
    assert_refused_and_unchanged(
        ticket, lambda: services.approve_review(ticket, supervisor, version=ticket.version), WorkflowError, SELF_REVIEW
    )
    services.approve_review(ticket, colleague, version=ticket.version)  # approving compensation is no handling
    db.session.commit()
    assert ticket.status == "closed"
    assert "four_eyes_waived" not in last_event(ticket).changes


@pytest.mark.parametrize("step", ["listen", "follow_up", "record_review"])
def test_one_step_of_the_handling_is_enough_to_be_refused_the_review(agent, supervisor, colleague, step):
    """The agent does every step but `step`, which the supervisor does."""
    doer = {name: (supervisor if name == step else agent) for name in ("listen", "follow_up", "record_review")}
    ticket = open_case(agent, listen=False)
    services.record_listening(ticket, doer["listen"], version=ticket.version, **LISTEN)
    db.session.commit()
    to_step(ticket, agent, "follow_up")
    services.record_follow_up(ticket, doer["follow_up"], version=ticket.version, **SATISFIED)
    services.record_review(ticket, doer["record_review"], version=ticket.version, summary="Done", lesson="Seals")
    db.session.commit()
    assert_refused_and_unchanged(
        ticket, lambda: services.approve_review(ticket, supervisor, version=ticket.version), WorkflowError, SELF_REVIEW
    )
    services.approve_review(ticket, colleague, version=ticket.version)
    db.session.commit()
    assert ticket.status == "closed"


def test_the_refusals_name_the_rule_in_chinese_too(supervisor, colleague):
    ticket = handled_alone(supervisor)
    with pytest.raises(WorkflowError) as refused:
        services.approve_compensation(ticket, supervisor, version=ticket.version)
    db.session.rollback()
    with force_locale("zh_CN"):
        assert str(refused.value.reason) == "四眼原则：这笔补偿是您提出的，须由另一位主管审批。"


def test_a_one_person_desk_lets_one_supervisor_do_everything_and_says_so_on_the_case(supervisor, admin):
    one_person_desk(admin)
    ticket = handled_alone(supervisor)
    assert ticket.resolution_state == "awaiting_customer"  # no second approver on a desk of one
    proposed = last_event(ticket)
    assert proposed.changes["four_eyes_waived"] == [None, ["second_approver"]]
    to_review(ticket, supervisor)
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    assert ticket.status == "closed"
    closed = last_event(ticket)
    assert closed.changes["four_eyes_waived"] == [None, ["self_review"]]
    words = {label: after for label, _before, after, _new in describe(closed)["changes"]}
    assert words["One-person desk: done alone"] == "approved the review of a case they handled"
    words = {label: after for label, _before, after, _new in describe(proposed)["changes"]}
    assert words["One-person desk: done alone"] == "gave compensation above an agent's limit without another approver"


def test_self_approval_on_a_one_person_desk_is_recorded(supervisor, admin):
    ticket = handled_alone(supervisor)  # waits: four eyes were in force when it was proposed
    one_person_desk(admin)
    services.approve_compensation(ticket, supervisor, version=ticket.version)
    db.session.commit()
    assert ticket.resolution_state == "awaiting_customer"
    assert last_event(ticket).changes["four_eyes_waived"] == [None, ["self_approval"]]


def test_a_one_person_desk_never_lifts_the_proposers_own_limit(supervisor, admin):
    one_person_desk(admin)
    ticket = handled_alone(supervisor, amount="6000")  # above a supervisor's 5,000
    assert ticket.resolution_state == "awaiting_approval"
    assert last_event(ticket).changes["waiting_for"] == [None, ["above_limit"]]
    assert "four_eyes_waived" not in last_event(ticket).changes


def test_the_review_page_warns_a_handler_and_lists_what_was_done_alone(app, supervisor, colleague, admin):
    ticket = handled_alone(supervisor)
    services.approve_compensation(ticket, colleague, version=ticket.version)
    to_review(ticket, supervisor)
    client = app.test_client()
    login(client, supervisor.email)
    page = client.get(f"/review/cases/{ticket.reference}").get_data(as_text=True)
    assert "Four eyes: you handled this case, so another supervisor approves its review." in page
    assert "Done alone on a one-person desk" not in page
    response = client.post(
        f"/review/cases/{ticket.reference}",
        data={"version": ticket.version, "decision": "approve", "comments": ""},
    )
    assert response.status_code == 409 and SELF_REVIEW in response.get_data(as_text=True)
    one_person_desk(admin)
    response = client.post(
        f"/review/cases/{ticket.reference}",
        data={"version": ticket.version, "decision": "approve", "comments": ""},
    )
    assert response.status_code == 302
    page = client.get(f"/review/cases/{ticket.reference}").get_data(as_text=True)
    assert "Done alone on a one-person desk" in page and "approved the review of a case they handled" in page


def test_only_an_administrator_may_allow_a_one_person_desk(app, supervisor):
    with pytest.raises(SettingError):
        settings.save(supervisor, {"one_person_desk": True}, utcnow())
    db.session.rollback()
    client = app.test_client()
    login(client, supervisor.email)
    response = client.post("/admin/settings/sections/four_eyes", data={"four_eyes-one_person_desk": "y"})
    assert response.status_code == 403
    assert settings.desk().one_person_desk is False
