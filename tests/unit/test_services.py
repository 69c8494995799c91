"""The service functions against a real database: what each action changes, and what it refuses."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from tests.factories import open_case, propose, to_step
from tests.unit.helpers import assert_refused_and_unchanged, event_count, last_event, snapshot
from ticketing.cases import services
from ticketing.cases.models import Customer, Ticket
from ticketing.cases.records import FollowUpRecord, ListenRecord, Resolution, ReviewRecord
from ticketing.cases.services import StaleCase
from ticketing.cases.services.intake import phone_digits
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db


@pytest.fixture
def colleague(make_user):
    return make_user("agent", "colleague@example.com", "Cole Colleague")


def at_resolve(agent):
    return to_step(open_case(agent), agent, "resolve")


def propose_lines(ticket, actor, lines, estimated_loss=None):
    services.propose_resolution(
        ticket,
        actor,
        version=ticket.version,
        method="Refund the kettle",
        promised_date=(utcnow() + timedelta(days=2)).date(),
        currency="CNY",
        lines=lines,
        estimated_loss=estimated_loss,
    )
    db.session.commit()


def awaiting_approval(agent, amount="300"):
    ticket = at_resolve(agent)
    propose(ticket, agent, amount=Decimal(amount))
    assert ticket.resolution_state == "awaiting_approval"
    return ticket


def at_review(agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review", approver=supervisor)
    services.record_review(
        ticket,
        agent,
        version=ticket.version,
        summary="Kettle replaced",
        lesson="Check seals",
        preventive_action="Seal test at the warehouse",
    )
    db.session.commit()
    return ticket


def closed_case(agent, supervisor):
    ticket = at_review(agent, supervisor)
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    return ticket


def resolution_count(ticket):
    return db.session.scalar(select(func.count(Resolution.id)).where(Resolution.ticket_id == ticket.id))


# --- compensation and the approval limit --------------------------------------------


def test_compensation_within_the_agent_limit_goes_straight_to_the_customer(agent, frozen_clock):
    ticket = at_resolve(agent)
    propose(ticket, agent, amount=Decimal("200"))
    resolution = services.current_resolution(ticket)
    assert ticket.resolution_state == resolution.state == "awaiting_customer"
    assert resolution.total == Decimal("200")
    assert [line.approved_by_id for line in resolution.lines] == [agent.id, agent.id]
    assert {line.approved_at for line in resolution.lines} == {frozen_clock.now}


def test_compensation_above_the_agent_limit_waits_for_a_supervisor(agent):
    ticket = at_resolve(agent)
    propose(ticket, agent, amount=Decimal("200.01"))
    resolution = services.current_resolution(ticket)
    assert ticket.resolution_state == resolution.state == "awaiting_approval"
    assert [line.approved_by_id for line in resolution.lines] == [None, None]


def test_emotional_compensation_with_a_cost_counts_towards_the_limit(agent):
    ticket = at_resolve(agent)
    propose_lines(
        ticket,
        agent,
        [
            {"type": "voucher", "amount": Decimal("120")},
            {"type": "gift", "amount": Decimal("100"), "description": "Tea set"},
        ],
        estimated_loss=Decimal("220"),  # in proportion: only the limit makes it wait
    )
    resolution = services.current_resolution(ticket)
    assert [line.kind for line in resolution.lines] == ["economic", "emotional"]
    assert ticket.resolution_state == "awaiting_approval"


def test_agent_cannot_approve_compensation_above_limit(agent):
    ticket = awaiting_approval(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.approve_compensation(ticket, agent, version=ticket.version),
        WorkflowError,
        "Only a supervisor can do this.",
    )
    assert all(line.approved_by_id is None for line in services.current_resolution(ticket).lines)


def test_supervisor_approval_sends_the_compensation_to_the_customer(agent, supervisor, frozen_clock):
    ticket = awaiting_approval(agent)
    frozen_clock.move(hours=1)
    services.approve_compensation(ticket, supervisor, version=ticket.version, comments="Loyal customer")
    db.session.commit()
    resolution = services.current_resolution(ticket)
    assert ticket.resolution_state == resolution.state == "awaiting_customer"
    assert resolution.decided_by_id == supervisor.id and resolution.decision_reason == "Loyal customer"
    assert [line.approved_by_id for line in resolution.lines] == [supervisor.id, supervisor.id]
    assert {line.approved_at for line in resolution.lines} == {frozen_clock.now}
    assert resolution.proposed_by_id == agent.id


def test_supervisor_cannot_approve_compensation_above_their_own_limit(app, agent, supervisor, admin):
    ticket = awaiting_approval(agent, amount="6000")
    assert_refused_and_unchanged(
        ticket,
        lambda: services.approve_compensation(ticket, supervisor, version=ticket.version),
        WorkflowError,
        "This compensation is above your own approval limit (5000).",
    )
    app.config["COMPENSATION_LIMITS"] = {**app.config["COMPENSATION_LIMITS"], "admin": 10000}
    services.approve_compensation(ticket, admin, version=ticket.version)
    db.session.commit()
    assert ticket.resolution_state == "awaiting_customer"


def test_supervisor_proposing_above_an_agents_limit_waits_for_another_approver(agent, supervisor):
    ticket = at_resolve(agent)
    propose(ticket, supervisor, amount=Decimal("1000"))
    resolution = services.current_resolution(ticket)
    assert ticket.resolution_state == "awaiting_approval"  # four eyes, though within their own limit
    assert [line.approved_by_id for line in resolution.lines] == [None, None]


def test_supervisor_proposing_within_an_agents_limit_needs_no_approval(agent, supervisor):
    ticket = at_resolve(agent)
    propose(ticket, supervisor, amount=Decimal("200"))
    resolution = services.current_resolution(ticket)
    assert ticket.resolution_state == "awaiting_customer"
    assert [line.approved_by_id for line in resolution.lines] == [supervisor.id, supervisor.id]


def test_refused_compensation_lets_the_agent_propose_again(agent, supervisor):
    ticket = awaiting_approval(agent)
    services.refuse_compensation(ticket, supervisor, version=ticket.version, reason="Too much for a kettle")
    db.session.commit()
    refused = services.current_resolution(ticket)
    assert ticket.resolution_state == refused.state == "refused"
    assert refused.decided_by_id == supervisor.id and refused.decision_reason == "Too much for a kettle"
    propose(ticket, agent, amount=Decimal("150"))
    assert ticket.resolution_state == "awaiting_customer"
    assert services.current_resolution(ticket).id != refused.id
    assert resolution_count(ticket) == 2


def test_refusing_compensation_needs_a_reason(agent, supervisor):
    ticket = awaiting_approval(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.refuse_compensation(ticket, supervisor, version=ticket.version, reason=" "),
        WorkflowError,
        "Please give a reason.",
    )


def test_second_proposal_is_refused_while_the_first_waits_for_approval(agent):
    ticket = awaiting_approval(agent)
    assert_refused_and_unchanged(ticket, lambda: propose(ticket, agent, amount=Decimal("10")), WorkflowError)
    assert resolution_count(ticket) == 1


def test_customer_rejection_lets_the_agent_propose_again(agent):
    ticket = at_resolve(agent)
    propose(ticket, agent)
    services.record_customer_answer(
        ticket, None, version=ticket.version, accepted=False, reason="I want my money back, not a letter"
    )
    db.session.commit()
    rejected = services.current_resolution(ticket)
    assert ticket.resolution_state == rejected.state == "rejected"
    assert rejected.customer_reason == "I want my money back, not a letter"
    propose(ticket, agent, amount=Decimal("180"))
    assert ticket.resolution_state == "awaiting_customer"
    assert resolution_count(ticket) == 2


def test_customer_rejection_needs_a_reason(agent):
    ticket = at_resolve(agent)
    propose(ticket, agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.record_customer_answer(ticket, None, version=ticket.version, accepted=False),
        WorkflowError,
        "Please give a reason.",
    )


def test_customer_accepts_through_the_portal(agent):
    ticket = at_resolve(agent)
    propose(ticket, agent)
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=True)
    db.session.commit()
    assert ticket.resolution_state == services.current_resolution(ticket).state == "accepted"
    assert ticket.updated_by_id is None


def test_customer_cannot_answer_a_proposal_still_waiting_for_approval(agent):
    ticket = awaiting_approval(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.record_customer_answer(ticket, None, version=ticket.version, accepted=True),
        WorkflowError,
        "No proposal is waiting for the customer's answer.",
    )


def test_carrying_out_an_accepted_resolution_moves_to_follow_up(agent, frozen_clock):
    ticket = at_resolve(agent)
    propose(ticket, agent)
    services.record_customer_answer(ticket, agent, version=ticket.version, accepted=True)
    services.carry_out_resolution(ticket, agent, version=ticket.version, note="New kettle delivered")
    db.session.commit()
    resolution = services.current_resolution(ticket)
    assert (ticket.step, ticket.resolution_state) == ("follow_up", "carried_out")
    assert resolution.carried_out_at == frozen_clock.now
    assert resolution.carried_out_note == "New kettle delivered"


def test_resolution_cannot_be_carried_out_before_the_customer_accepts(agent):
    ticket = at_resolve(agent)
    propose(ticket, agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.carry_out_resolution(ticket, agent, version=ticket.version),
        WorkflowError,
        "The customer has not accepted the proposed resolution yet.",
    )


# --- follow-up and review ---------------------------------------------------------------


def follow_up(ticket, actor, outcome, return_to=None):
    services.record_follow_up(
        ticket,
        actor,
        version=ticket.version,
        method="phone",
        outcome=outcome,
        satisfaction=2 if outcome == "unsatisfied" else 5,
        retention="at_risk" if outcome == "unsatisfied" else "retained",
        churn_type="retaliatory" if outcome == "unsatisfied" else None,
        churn_cause="product" if outcome == "unsatisfied" else None,
        return_to=return_to,
    )
    db.session.commit()


def latest(model, ticket):
    return db.session.scalars(select(model).where(model.ticket_id == ticket.id).order_by(model.id.desc())).first()


def test_satisfied_follow_up_moves_to_review(agent):
    ticket = to_step(open_case(agent), agent, "follow_up")
    follow_up(ticket, agent, "satisfied", return_to="analyse")
    assert ticket.step == "review"
    record = latest(FollowUpRecord, ticket)
    assert (record.outcome, record.satisfaction, record.return_to) == ("satisfied", 5, None)


def test_unsatisfied_follow_up_returning_to_analysis_needs_the_cause_analysed_again(agent):
    ticket = to_step(open_case(agent), agent, "follow_up")
    follow_up(ticket, agent, "unsatisfied", return_to="analyse")
    assert (ticket.step, ticket.resolution_state, ticket.analysed_at) == ("analyse", "none", None)
    assert latest(FollowUpRecord, ticket).return_to == "analyse"
    assert_refused_and_unchanged(ticket, lambda: propose(ticket, agent), WorkflowError)
    to_step(ticket, agent, "resolve")
    propose(ticket, agent)
    assert ticket.resolution_state == "awaiting_customer"


def test_unsatisfied_follow_up_returning_to_resolution_keeps_the_analysis(agent):
    ticket = to_step(open_case(agent), agent, "follow_up")
    analysed_at = ticket.analysed_at
    follow_up(ticket, agent, "unsatisfied", return_to="resolve")
    assert (ticket.step, ticket.resolution_state, ticket.analysed_at) == ("resolve", "none", analysed_at)
    propose(ticket, agent, amount=Decimal("100"))
    assert ticket.resolution_state == "awaiting_customer"
    assert resolution_count(ticket) == 2


@pytest.mark.parametrize("return_to", [None, "", "listen", "review"])
def test_unsatisfied_follow_up_without_a_step_to_return_to_is_refused(agent, return_to):
    ticket = to_step(open_case(agent), agent, "follow_up")
    assert_refused_and_unchanged(
        ticket,
        lambda: follow_up(ticket, agent, "unsatisfied", return_to=return_to),
        WorkflowError,
        "An unsatisfied customer sends the case back to analysis or resolution: choose one.",
    )


def test_review_cannot_be_approved_before_the_summary_is_recorded(agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review")
    assert_refused_and_unchanged(
        ticket,
        lambda: services.approve_review(ticket, supervisor, version=ticket.version),
        WorkflowError,
        "The summary and lessons must be recorded before the review can be approved.",
    )


def test_approved_review_closes_the_case(agent, supervisor, frozen_clock):
    ticket = at_review(agent, supervisor)
    frozen_clock.move(days=1)
    services.approve_review(ticket, supervisor, version=ticket.version, comments="Well handled")
    db.session.commit()
    assert (ticket.status, ticket.step, ticket.closed_at) == ("closed", "review", frozen_clock.now)
    review = latest(ReviewRecord, ticket)
    assert (review.decision, review.decided_by_id, review.comments) == ("approved", supervisor.id, "Well handled")


def test_agent_cannot_approve_their_own_review(agent, supervisor):
    ticket = at_review(agent, supervisor)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.approve_review(ticket, agent, version=ticket.version),
        WorkflowError,
        "Only a supervisor can do this.",
    )


# return_to: (resolution state afterwards, whether the analysis still stands)
RETURNED = {
    "listen": ("none", False),
    "apologise": ("none", False),
    "analyse": ("none", False),
    "resolve": ("none", True),
    "follow_up": ("carried_out", True),
}


@pytest.mark.parametrize("return_to", list(RETURNED))
def test_supervisor_returns_review_to_a_named_step_with_a_reason(agent, supervisor, return_to):
    ticket = at_review(agent, supervisor)
    services.return_review(
        ticket, supervisor, version=ticket.version, return_to=return_to, reason="The customer's words are missing"
    )
    db.session.commit()
    state, analysed = RETURNED[return_to]
    assert (ticket.status, ticket.step, ticket.resolution_state) == ("open", return_to, state)
    assert (ticket.analysed_at is not None) is analysed
    assert ticket.review_recorded_at is None
    review = latest(ReviewRecord, ticket)
    assert (review.decision, review.decided_by_id, review.return_to) == ("returned", supervisor.id, return_to)
    assert review.comments == "The customer's words are missing"


def test_review_returned_to_follow_up_must_be_followed_up_and_recorded_again(agent, supervisor):
    ticket = at_review(agent, supervisor)
    services.return_review(
        ticket, supervisor, version=ticket.version, return_to="follow_up", reason="Call the customer back"
    )
    db.session.commit()
    follow_up(ticket, agent, "satisfied")
    assert ticket.step == "review"
    assert_refused_and_unchanged(
        ticket, lambda: services.approve_review(ticket, supervisor, version=ticket.version), WorkflowError
    )


@pytest.mark.parametrize(
    "who,reason,message",
    [
        ("agent", "Incomplete", "Only a supervisor can do this."),
        ("supervisor", "", "Please give a reason."),
    ],
    ids=["by_an_agent", "without_a_reason"],
)
def test_returning_a_review_needs_a_supervisor_and_a_reason(agent, supervisor, who, reason, message):
    ticket = at_review(agent, supervisor)
    actor = {"agent": agent, "supervisor": supervisor}[who]
    assert_refused_and_unchanged(
        ticket,
        lambda: services.return_review(ticket, actor, version=ticket.version, return_to="resolve", reason=reason),
        WorkflowError,
        message,
    )


# --- cancel, merge, reopen, assign ------------------------------------------------------


def test_cancelled_case_refuses_further_steps_but_takes_notes(agent, frozen_clock):
    ticket = open_case(agent)
    services.cancel_case(ticket, agent, version=ticket.version, reason="Customer withdrew the complaint")
    db.session.commit()
    assert (ticket.status, ticket.closed_at) == ("cancelled", frozen_clock.now)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.record_apology(ticket, agent, version=ticket.version, method="phone", wording="Sorry"),
        WorkflowError,
    )
    services.add_note(ticket, agent, body="Customer called to say thanks anyway")
    db.session.commit()
    assert last_event(ticket).action == "note"


def test_cancelling_needs_a_reason(agent):
    ticket = open_case(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.cancel_case(ticket, agent, version=ticket.version, reason=""),
        WorkflowError,
        "Please give a reason.",
    )


def test_duplicate_is_merged_into_the_case_it_repeats(agent):
    original, duplicate = open_case(agent), open_case(agent)
    services.merge_case(
        duplicate, agent, version=duplicate.version, target=original, reason="Same kettle, called twice"
    )
    db.session.commit()
    assert (duplicate.status, duplicate.merged_into_id) == ("cancelled", original.id)
    assert (original.status, original.merged_into_id) == ("open", None)


def test_case_cannot_be_merged_into_itself(agent):
    ticket = open_case(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.merge_case(ticket, agent, version=ticket.version, target=ticket, reason="Duplicate"),
        WorkflowError,
        "A case cannot be merged into itself.",
    )


def test_case_cannot_be_merged_into_a_closed_case(agent, supervisor):
    target, ticket = closed_case(agent, supervisor), open_case(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.merge_case(ticket, agent, version=ticket.version, target=target, reason="Duplicate"),
        WorkflowError,
        "A case can only be merged into an open case.",
    )


def test_supervisor_reopens_a_closed_case_at_analysis(agent, supervisor):
    ticket = closed_case(agent, supervisor)
    services.reopen_case(ticket, supervisor, version=ticket.version, reason="The new kettle leaks too")
    db.session.commit()
    assert (ticket.status, ticket.step, ticket.resolution_state) == ("open", "analyse", "none")
    assert (ticket.closed_at, ticket.analysed_at, ticket.review_recorded_at) == (None, None, None)
    to_step(ticket, agent, "resolve")
    propose(ticket, agent)
    assert ticket.resolution_state == "awaiting_customer"


@pytest.mark.parametrize(
    "reason,message",
    [("It leaks again", "Only a supervisor can do this."), ("", "Please give a reason.")],
    ids=["by_an_agent", "without_a_reason"],
)
def test_reopening_needs_a_supervisor_and_a_reason(agent, supervisor, reason, message):
    ticket = closed_case(agent, supervisor)
    actor = agent if message.startswith("Only") else supervisor
    assert_refused_and_unchanged(
        ticket,
        lambda: services.reopen_case(ticket, actor, version=ticket.version, reason=reason),
        WorkflowError,
        message,
    )


def test_reopening_a_merged_case_unlinks_it(agent, supervisor):
    original, duplicate = open_case(agent), open_case(agent)
    services.merge_case(duplicate, agent, version=duplicate.version, target=original, reason="Duplicate")
    db.session.commit()
    services.reopen_case(duplicate, supervisor, version=duplicate.version, reason="A different kettle")
    db.session.commit()
    assert (duplicate.status, duplicate.merged_into_id) == ("open", None)


@pytest.mark.parametrize("listened,step", [(False, "listen"), (True, "apologise")])
def test_case_cancelled_before_its_analysis_reopens_where_it_stopped(agent, supervisor, listened, step):
    ticket = open_case(agent, listen=listened)
    services.cancel_case(ticket, agent, version=ticket.version, reason="Wrong customer")
    db.session.commit()
    services.reopen_case(ticket, supervisor, version=ticket.version, reason="Right customer after all")
    db.session.commit()
    assert (ticket.status, ticket.step) == ("open", step)


def portal_case():
    customer = services.find_or_create_customer("Han Meimei", "han@example.com", None)
    ticket = services.take_complaint(
        None, customer=customer, subject="Late delivery", description="Still waiting after two weeks", channel="web"
    )
    db.session.commit()
    return ticket


def test_agent_takes_an_unassigned_case_for_themselves(agent):
    ticket = portal_case()
    assert ticket.assignee_id is None
    services.assign_case(ticket, agent, version=ticket.version, assignee=agent)
    db.session.commit()
    assert ticket.assignee_id == agent.id


def test_agent_cannot_hand_an_unassigned_case_to_someone_else(agent, colleague):
    ticket = portal_case()
    assert_refused_and_unchanged(
        ticket,
        lambda: services.assign_case(ticket, agent, version=ticket.version, assignee=colleague),
        WorkflowError,
        "An agent can only take an unassigned case for themselves.",
    )


def test_agent_cannot_take_a_case_assigned_to_someone_else(agent, colleague):
    ticket = open_case(agent)
    assert_refused_and_unchanged(
        ticket,
        lambda: services.assign_case(ticket, colleague, version=ticket.version, assignee=colleague),
        WorkflowError,
        "Only a supervisor can reassign a case.",
    )


def test_supervisor_reassigns_a_case_and_the_new_assignee_works_it(agent, colleague, supervisor):
    ticket = open_case(agent)
    services.assign_case(ticket, supervisor, version=ticket.version, assignee=colleague)
    db.session.commit()
    assert ticket.assignee_id == colleague.id
    services.record_apology(ticket, colleague, version=ticket.version, method="phone", wording="So sorry")
    db.session.commit()
    assert_refused_and_unchanged(
        ticket,
        lambda: services.record_analysis(
            ticket,
            agent,
            version=ticket.version,
            root_cause="product",
            detail="Seal",
            legitimacy="justified",
            responsibility="company",
            motive="fix",
        ),
        WorkflowError,
        "This case is assigned to someone else; ask a supervisor to reassign it.",
    )


# --- intake -----------------------------------------------------------------------------


def customer_count():
    return db.session.scalar(select(func.count(Customer.id)))


def test_intake_finds_the_customer_again_by_email_whatever_the_case(app):
    first = services.find_or_create_customer("Li Lei", "li.lei@example.com", None)
    again = services.find_or_create_customer("Lei Li", "  Li.Lei@Example.COM ", "139 0000 0000")
    assert again.id == first.id and customer_count() == 1
    assert again.name == "Li Lei"
    assert again.phone_digits == "13900000000"  # what we did not know is filled in


@pytest.mark.parametrize(
    "known,typed",
    [
        ("138-0013-8000", "+86 138 0013 8000"),
        ("+86 138 0013 8000", "138-0013-8000"),
        ("13800138000", "0086 138 0013 8000"),
        ("(010) 1234-5678", "+86 10 1234 5678"),
    ],
    ids=["dashes_then_country_code", "country_code_then_dashes", "plain_then_0086", "landline"],
)
def test_intake_finds_the_customer_again_by_phone_whatever_the_formatting(app, known, typed):
    first = services.find_or_create_customer("Li Lei", None, known)
    again = services.find_or_create_customer("Li Lei", "li.lei@example.com", typed)
    assert again.id == first.id and customer_count() == 1
    assert again.email == "li.lei@example.com"
    assert again.phone == known  # never overwritten


def test_intake_keeps_the_email_the_customer_gave_before(app):
    first = services.find_or_create_customer("Li Lei", "li.lei@example.com", "13800138000")
    again = services.find_or_create_customer("Li Lei", "lilei@work.example", "+86 13800138000")
    assert again.id == first.id and again.email == "li.lei@example.com"


def test_intake_creates_a_new_customer_when_nothing_matches(app):
    first = services.find_or_create_customer("Li Lei", "li.lei@example.com", "13800138000")
    other = services.find_or_create_customer("Han Meimei", "han@example.com", "13900139000")
    assert other.id != first.id and customer_count() == 2


@pytest.mark.parametrize(
    "typed,digits",
    [
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("010-1234-5678", "01012345678"),
        ("+86 (0)10 1234 5678", "01012345678"),
        ("+1 415 555 0100", "14155550100"),
        ("", None),
        (None, None),
        ("n/a", None),
    ],
    ids=lambda value: str(value).replace(" ", "_"),
)
def test_phone_numbers_compare_by_their_digits_as_dialled_in_china(typed, digits):
    assert phone_digits(typed) == digits


def test_customer_look_up_matches_email_or_phone_in_any_format(app):
    customer = services.find_or_create_customer("Li Lei", "li.lei@example.com", "+86 138 0013 8000")
    services.find_or_create_customer("Han Meimei", "han@example.com", "13900139000")
    assert services.find_customers("138 0013 8000") == [customer]
    assert services.find_customers("LI.LEI@example.com") == [customer]
    assert services.find_customers("") == []


def test_references_are_numbered_per_year_and_increase(agent, frozen_clock):
    references = [open_case(agent).reference for _ in range(3)]
    assert references == ["C-2026-000001", "C-2026-000002", "C-2026-000003"]
    frozen_clock.move(days=40)
    assert open_case(agent).reference == "C-2027-000001"
    frozen_clock.move(days=1)
    assert open_case(agent).reference == "C-2027-000002"


def test_agent_owns_the_complaint_they_take_with_deadlines_from_its_priority(agent, frozen_clock):
    ticket = open_case(agent, listen=False, priority="urgent")
    assert (ticket.assignee_id, ticket.created_by_id, ticket.step, ticket.status) == (
        agent.id,
        agent.id,
        "listen",
        "open",
    )
    assert ticket.response_due_at == frozen_clock.now + timedelta(hours=1)
    assert ticket.resolution_due_at == frozen_clock.now + timedelta(hours=24)


def test_complaint_from_the_portal_lands_unassigned(app):
    ticket = portal_case()
    assert (ticket.assignee_id, ticket.created_by_id, ticket.step) == (None, None, "listen")


def test_intake_with_the_customers_words_records_step_one_at_once(agent):
    ticket = open_case(agent)
    assert ticket.step == "apologise"
    record = latest(ListenRecord, ticket)
    assert (record.recorded_by_id, record.emotion, record.restatement_confirmed) == (agent.id, "upset", True)


# --- refused actions change nothing -----------------------------------------------------

FORBIDDEN = {
    "analysis_before_the_apology": lambda t, a, c: services.record_analysis(
        t,
        a,
        version=t.version,
        root_cause="product",
        detail="x",
        legitimacy="justified",
        responsibility="company",
        motive="fix",
    ),
    "listening_twice": lambda t, a, c: services.record_listening(
        t,
        a,
        version=t.version,
        customer_words="x",
        restatement="x",
        expectation="x",
        emotion="calm",
        dissatisfaction="explicit",
    ),
    "proposal_before_analysis": lambda t, a, c: propose(t, a),
    "follow_up_before_resolution": lambda t, a, c: follow_up(t, a, "satisfied"),
    "review_before_follow_up": lambda t, a, c: services.record_review(t, a, version=t.version, summary="x", lesson="x"),
    "colleague_apologises_on_anothers_case": lambda t, a, c: services.record_apology(
        t, c, version=t.version, method="phone", wording="Sorry"
    ),
    "customer_cancels": lambda t, a, c: services.cancel_case(t, None, version=t.version, reason="No"),
    "reopening_an_open_case": lambda t, a, c: services.reopen_case(t, a, version=t.version, reason="Again"),
}


@pytest.mark.parametrize("attempt", list(FORBIDDEN))
def test_forbidden_action_raises_and_changes_nothing(agent, colleague, attempt):
    ticket = open_case(agent)
    assert_refused_and_unchanged(ticket, lambda: FORBIDDEN[attempt](ticket, agent, colleague), WorkflowError)


# --- optimistic locking -----------------------------------------------------------------


def test_every_action_moves_the_version_on(agent):
    ticket = open_case(agent, listen=False)
    versions = [ticket.version]
    for step in ("apologise", "analyse", "resolve"):
        to_step(ticket, agent, step)
        versions.append(ticket.version)
    assert versions == sorted(set(versions))


def test_version_from_a_form_may_arrive_as_text(agent):
    ticket = open_case(agent)
    services.record_apology(ticket, agent, version=str(ticket.version), method="phone", wording="Sorry")
    db.session.commit()
    assert ticket.step == "analyse"


def test_stale_version_is_refused_naming_who_changed_the_case_and_when(agent, supervisor, frozen_clock):
    ticket = open_case(agent)
    seen_version = ticket.version
    frozen_clock.move(minutes=7)
    changed_at = frozen_clock.now
    services.record_apology(ticket, supervisor, version=ticket.version, method="phone", wording="We apologise")
    db.session.commit()
    frozen_clock.move(minutes=1)
    error = assert_refused_and_unchanged(
        ticket, lambda: services.cancel_case(ticket, agent, version=seen_version, reason="Duplicate"), StaleCase
    )
    assert (error.changed_by, error.changed_at) == ("Sam Supervisor", changed_at)
    assert "Sam Supervisor" in str(error) and ticket.reference in str(error)


def test_stale_version_after_the_customers_answer_names_the_customer(agent):
    ticket = at_resolve(agent)
    propose(ticket, agent)
    seen_version = ticket.version
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=True)
    db.session.commit()
    error = assert_refused_and_unchanged(
        ticket, lambda: services.carry_out_resolution(ticket, agent, version=seen_version), StaleCase
    )
    assert str(error.changed_by) == "the customer"


def test_concurrent_change_in_another_session_loses_and_the_first_change_stays(app, agent, supervisor):
    ticket = open_case(agent)
    ticket_id, events = ticket.id, event_count(ticket)
    with app.app_context():  # the agent's request: its own session
        mine = db.session.get(Ticket, ticket_id)
        with app.app_context():  # the supervisor's request, at the same moment
            theirs = db.session.get(Ticket, ticket_id)
            assert theirs is not mine
            services.record_apology(theirs, supervisor, version=theirs.version, method="phone", wording="We apologise")
            db.session.commit()
        # The agent's copy still carries the old version, so the service's own check passes; the database
        # refuses the write at the service's flush, and the service answers with the one refusal for it.
        with pytest.raises(StaleCase) as stale:
            services.cancel_case(mine, agent, version=mine.version, reason="Duplicate")
        assert isinstance(stale.value.__cause__, StaleDataError)
        db.session.rollback()
        assert stale.value.changed_by == "Sam Supervisor"  # read after the rollback: who really got there first
    db.session.rollback()
    stored = snapshot(ticket)
    assert (stored["status"], stored["step"], stored["updated_by_id"]) == ("open", "analyse", supervisor.id)
    assert event_count(ticket) == events + 1
    assert last_event(ticket).action == "apologise"


def test_negative_compensation_is_refused(app, agent):
    from datetime import date, timedelta

    import pytest

    from tests.factories import open_case, to_step
    from ticketing.cases import services
    from ticketing.cases.workflow import WorkflowError

    ticket = open_case(agent)
    to_step(ticket, agent, "resolve")
    with pytest.raises(WorkflowError, match="cannot be negative"):
        services.propose_resolution(
            ticket,
            agent,
            version=ticket.version,
            method="m",
            promised_date=date.today() + timedelta(days=10),
            currency="CNY",
            lines=[{"type": "refund", "amount": 500}, {"type": "discount", "amount": -400}],
        )


def test_compensation_above_every_approvers_limit_is_refused_at_once(app, agent):
    from datetime import date, timedelta

    import pytest

    from tests.factories import open_case, to_step
    from ticketing.cases import services
    from ticketing.cases.workflow import WorkflowError

    ticket = open_case(agent)
    to_step(ticket, agent, "resolve")
    with pytest.raises(WorkflowError, match="above every approver's limit"):
        services.propose_resolution(
            ticket,
            agent,
            version=ticket.version,
            method="m",
            promised_date=date.today() + timedelta(days=10),
            currency="CNY",
            lines=[{"type": "refund", "amount": 1_000_000}],
        )
