"""The record log: every action leaves exactly one event, written in the action's own transaction."""

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.factories import LISTEN, open_case, propose, to_step
from tests.unit.helpers import event_count, events_of, last_event, snapshot
from ticketing.cases import services, settings
from ticketing.cases.audit import Event
from ticketing.cases.services.recompute import recompute_open_deadlines
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db

T0 = "2026-11-24T09:00:00+00:00"  # the frozen clock, while the case is prepared
NOW = "2026-11-24T09:05:00+00:00"  # five minutes later, when the logged action happens
PROMISED = "2026-11-27"  # factories.propose promises three days ahead


@pytest.fixture
def people(agent, supervisor, make_user):
    return SimpleNamespace(
        agent=agent, supervisor=supervisor, colleague=make_user("agent", "colleague@example.com", "Cole Colleague")
    )


def resolving(p, amount=50):
    ticket = to_step(open_case(p.agent), p.agent, "resolve")
    propose(ticket, p.agent, amount=Decimal(amount))
    return ticket


def accepted(p):
    ticket = resolving(p)
    services.record_customer_answer(ticket, None, version=ticket.version, accepted=True)
    db.session.commit()
    return ticket


def reviewed(p):
    ticket = to_step(open_case(p.agent), p.agent, "review")
    services.record_review(ticket, p.agent, version=ticket.version, summary="Replaced", lesson="Test seals")
    db.session.commit()
    return ticket


def cancelled(p):
    ticket = to_step(open_case(p.agent), p.agent, "resolve")
    services.cancel_case(ticket, p.agent, version=ticket.version, reason="Withdrawn")
    db.session.commit()
    return ticket


# Each scenario prepares a case and returns (ticket, who acts, the action, the changes it must log).
def _listen(p):
    t = open_case(p.agent, listen=False)
    return (
        t,
        p.agent,
        lambda: services.record_listening(t, p.agent, version=t.version, **LISTEN),
        {
            "step": ["listen", "apologise"],
            "emotion": [None, "upset"],
            "dissatisfaction": [None, "explicit"],
            "restatement_confirmed": [None, True],
            "expectation": [None, "A working kettle"],
        },
    )


def _apologise(p):
    t = open_case(p.agent)
    return (
        t,
        p.agent,
        lambda: services.record_apology(t, p.agent, version=t.version, method="phone", wording="We are so sorry"),
        {
            "step": ["apologise", "analyse"],
            "method": [None, "phone"],
            "wording": [None, "We are so sorry"],
            "responded_at": [None, NOW],
        },
    )


def _analyse(p):
    t = to_step(open_case(p.agent), p.agent, "analyse")
    return (
        t,
        p.agent,
        lambda: services.record_analysis(
            t,
            p.agent,
            version=t.version,
            root_cause="product",
            detail="Seal",
            legitimacy="partly_justified",
            responsibility="shared",
            motive="compensation",
            product="Kettle K1",
        ),
        {
            "step": ["analyse", "resolve"],
            "root_cause": [None, "product"],
            "legitimacy": [None, "partly_justified"],
            "responsibility": [None, "shared"],
            "motive": [None, "compensation"],
            "analysed_at": [None, NOW],
            "product": [None, "Kettle K1"],
        },
    )


def _propose(p):
    t = to_step(open_case(p.agent), p.agent, "resolve")
    return (
        t,
        p.agent,
        lambda: services.propose_resolution(
            t,
            p.agent,
            version=t.version,
            method="Replace the kettle",
            promised_date=date(2026, 11, 27),
            currency="CNY",
            estimated_loss=Decimal("50"),
            lines=[{"type": "refund", "amount": Decimal("50")}, {"type": "apology_letter"}],
        ),
        {
            "resolution_state": ["none", "awaiting_customer"],
            "method": [None, "Replace the kettle"],
            "promised_date": [None, PROMISED],
            "currency": [None, "CNY"],
            "estimated_loss": [None, "50"],
            "compensation_total": [None, "50"],
            "compensation": [None, ["refund 50", "apology_letter"]],
        },
    )


def _approve_compensation(p):
    t = resolving(p, amount=300)
    return (
        t,
        p.supervisor,
        lambda: services.approve_compensation(t, p.supervisor, version=t.version),
        {"resolution_state": ["awaiting_approval", "awaiting_customer"]},
    )


def _refuse_compensation(p):
    t = resolving(p, amount=300)
    return (
        t,
        p.supervisor,
        lambda: services.refuse_compensation(t, p.supervisor, version=t.version, reason="Too generous"),
        {"resolution_state": ["awaiting_approval", "refused"], "reason": [None, "Too generous"]},
    )


def _customer_accepts(p):
    t = resolving(p)
    return (
        t,
        None,
        lambda: services.record_customer_answer(t, None, version=t.version, accepted=True),
        {"resolution_state": ["awaiting_customer", "accepted"]},
    )


def _customer_rejects(p):
    t = resolving(p)
    return (
        t,
        None,
        lambda: services.record_customer_answer(t, None, version=t.version, accepted=False, reason="Not enough"),
        {"resolution_state": ["awaiting_customer", "rejected"], "reason": [None, "Not enough"]},
    )


def _carry_out(p):
    t = accepted(p)
    return (
        t,
        p.agent,
        lambda: services.carry_out_resolution(t, p.agent, version=t.version, note="Delivered"),
        {
            "step": ["resolve", "follow_up"],
            "resolution_state": ["accepted", "carried_out"],
            "note": [None, "Delivered"],
        },
    )


def _follow_up(p):
    t = to_step(open_case(p.agent), p.agent, "follow_up")
    return (
        t,
        p.agent,
        lambda: services.record_follow_up(
            t,
            p.agent,
            version=t.version,
            method="wechat",
            outcome="unsatisfied",
            satisfaction=2,
            retention="at_risk",
            churn_type="retaliatory",
            churn_cause="unkept_promises",
            return_to="resolve",
        ),
        {
            "step": ["follow_up", "resolve"],
            "outcome": [None, "unsatisfied"],
            "satisfaction": [None, 2],
            "retention": [None, "at_risk"],
            "churn_type": [None, "retaliatory"],
            "churn_cause": [None, "unkept_promises"],
            "resolution_state": ["carried_out", "none"],
        },
    )


def _record_review(p):
    t = to_step(open_case(p.agent), p.agent, "review")
    return (
        t,
        p.agent,
        lambda: services.record_review(
            t, p.agent, version=t.version, summary="Replaced", lesson="Test seals", preventive_action="Audit"
        ),
        {
            "review_recorded_at": [None, NOW],
            "summary": [None, "Replaced"],
            "lesson": [None, "Test seals"],
            "preventive_action": [None, "Audit"],
        },
    )


def _approve_review(p):
    t = reviewed(p)
    return (
        t,
        p.supervisor,
        lambda: services.approve_review(t, p.supervisor, version=t.version),
        {"status": ["open", "closed"], "closed_at": [None, NOW], "decision": [None, "approved"]},
    )


def _return_review(p):
    t = reviewed(p)
    return (
        t,
        p.supervisor,
        lambda: services.return_review(t, p.supervisor, version=t.version, return_to="analyse", reason="Cause unclear"),
        {
            "step": ["review", "analyse"],
            "decision": [None, "returned"],
            "reason": [None, "Cause unclear"],
            "review_recorded_at": [T0, None],
            "resolution_state": ["carried_out", "none"],
            "analysed_at": [T0, None],
        },
    )


def _assign(p):
    t = open_case(p.agent)
    return (
        t,
        p.supervisor,
        lambda: services.assign_case(t, p.supervisor, version=t.version, assignee=p.colleague),
        {"assignee": ["agent@example.com", "colleague@example.com"]},
    )


def _note(p):
    t = open_case(p.agent)
    return (
        t,
        p.colleague,
        lambda: services.add_note(t, p.colleague, body="Known batch problem"),
        {"body": [None, "Known batch problem"]},
    )


def _message(p):
    t = open_case(p.agent)
    return (
        t,
        p.agent,
        lambda: services.send_message(t, p.agent, body="We are on it"),
        {"body": [None, "We are on it"], "responded_at": [None, NOW]},
    )


def _cancel(p):
    t = open_case(p.agent)
    return (
        t,
        p.agent,
        lambda: services.cancel_case(t, p.agent, version=t.version, reason="Withdrawn"),
        {"status": ["open", "cancelled"], "closed_at": [None, NOW], "reason": [None, "Withdrawn"]},
    )


def _merge(p):
    target, t = open_case(p.agent), open_case(p.agent)
    return (
        t,
        p.agent,
        lambda: services.merge_case(t, p.agent, version=t.version, target=target, reason="Called twice"),
        {"status": ["open", "cancelled"], "reason": [None, "Called twice"], "merged_into": [None, "C-2026-000001"]},
    )


def _reopen(p):
    t = cancelled(p)
    return (
        t,
        p.supervisor,
        lambda: services.reopen_case(t, p.supervisor, version=t.version, reason="Leaks"),
        {
            "status": ["cancelled", "open"],
            "step": ["resolve", "analyse"],
            "closed_at": [T0, None],
            "analysed_at": [T0, None],
            "reason": [None, "Leaks"],
        },
    )


def _customer_reopens(p):
    t = reviewed(p)
    services.approve_review(t, p.supervisor, version=t.version)
    db.session.commit()
    return (
        t,
        None,
        lambda: services.customer_reopens(t, version=t.version, reason="It leaks again"),
        {"status": ["closed", "open"], "step": ["review", "analyse"], "reason": [None, "It leaks again"]},
    )


def _create(p):
    customer = services.find_or_create_customer(name="Han Meimei", email="han@example.com", phone=None)
    created = {}

    def perform():
        created["ticket"] = services.take_complaint(
            p.agent, customer=customer, subject="Broken lid", description="The lid broke", channel="phone"
        )

    return (
        created,
        p.agent,
        perform,
        {"subject": [None, "Broken lid"], "channel": [None, "phone"], "assignee": [None, "agent@example.com"]},
    )


def _attach(p):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    from ticketing.cases.attachments import save_attachments

    t = open_case(p.agent)
    photo = FileStorage(BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64), filename="lid.png")
    return t, None, lambda: save_attachments(t, [photo]), {"files": [None, ["lid.png"]]}


def _rate(p):
    from ticketing.cases.survey import answer_survey

    t = to_step(open_case(p.agent), p.agent, "review")
    return (
        t,
        None,
        lambda: answer_survey(
            t, satisfaction=4, recommend=8, buy_again="yes", fair_outcome=4, fair_process=4, fair_treatment=5
        ),
        {
            "satisfaction": [None, 4],
            "recommend": [None, 8],
            "buy_again": [None, "yes"],
            "fair_outcome": [None, 4],
            "fair_process": [None, 4],
            "fair_treatment": [None, 5],
        },
    )


def _record_survey(p):
    from ticketing.cases.survey import record_phone_survey

    t = to_step(open_case(p.agent), p.agent, "review")
    answers = dict(satisfaction=3, recommend=6, buy_again="maybe", fair_outcome=3, fair_process=4, fair_treatment=5)
    return (
        t,
        p.agent,
        lambda: record_phone_survey(t, p.agent, version=t.version, comment="Said on the phone", **answers),
        {
            "satisfaction": [None, 3],
            "recommend": [None, 6],
            "buy_again": [None, "maybe"],
            "fair_outcome": [None, 3],
            "fair_process": [None, 4],
            "fair_treatment": [None, 5],
        },
    )


def _suggest_compensation(p):
    from ticketing.cases.services.guarantee import suggest_service_guarantee
    from ticketing.clock import utcnow

    t = open_case(p.agent, priority="high")
    return (
        t,
        None,
        lambda: suggest_service_guarantee(t, utcnow()),
        {"compensation": [None, ["voucher 50", "apology_letter"]]},
    )


def _preventive(p):
    from ticketing.cases import improvement

    t = reviewed(p)
    return t, improvement.add_preventive_action(
        t, p.supervisor, description="Test every seal", owner=p.agent, due_date=date(2026, 12, 15)
    )


def _add_preventive_action(p):
    from ticketing.cases import improvement

    t = reviewed(p)
    return (
        t,
        p.supervisor,
        lambda: improvement.add_preventive_action(
            t, p.supervisor, description="Test every seal", owner=p.agent, due_date=date(2026, 12, 15)
        ),
        {
            "preventive_action": [None, "Test every seal"],
            "owner": [None, "agent@example.com"],
            "due_date": [None, "2026-12-15"],
        },
    )


def _complete_preventive_action(p):
    from ticketing.cases import improvement

    t, action = _preventive(p)
    db.session.commit()
    return (
        t,
        p.agent,
        lambda: improvement.complete_preventive_action(action, p.agent, note="Seals tested"),
        {"preventive_action": [None, "Test every seal"], "note": [None, "Seals tested"]},
    )


def _verify_preventive_action(p):
    from ticketing.cases import improvement

    t, action = _preventive(p)
    improvement.complete_preventive_action(action, p.agent, note="Seals tested")
    db.session.commit()
    return (
        t,
        p.supervisor,
        lambda: improvement.verify_preventive_action(action, p.supervisor),
        {"preventive_action": [None, "Test every seal"]},
    )


def _customer_merged(p):
    from ticketing.cases.customers import merge_customers

    t = open_case(p.agent)
    duplicate = t.customer
    survivor = services.find_or_create_customer("Li Lei", "lilei.new@example.com", "+86 139 0000 1111")
    db.session.commit()
    return (
        t,
        p.agent,
        lambda: merge_customers(
            survivor,
            duplicate,
            p.agent,
            survivor_version=survivor.version,
            duplicate_version=duplicate.version,
            reason="Same person",
        ),
        {"customer": [duplicate.id, survivor.id], "reason": [None, "Same person"]},
    )


def _revoke_links(p):
    from ticketing.cases.portal_access import issue_token

    t = open_case(p.agent)
    issue_token(t)  # the link shown after the complaint
    issue_token(t)  # and one e-mailed
    db.session.commit()
    return t, p.agent, lambda: services.revoke_portal_links(t, p.agent), {"links": [None, 2]}


def _product_merged(p):
    from ticketing.cases import catalogue, catalogue_edits

    t = open_case(p.agent)
    t.product, t.product_id = "Blender B-200", catalogue.product_for("Blender B-200", create=True).id
    target = catalogue.product_for("Blender B200", create=True)
    db.session.commit()
    source = db.session.get(catalogue.Product, t.product_id)
    return (
        t,
        p.supervisor,
        lambda: catalogue_edits.merge_products(source, target, p.supervisor),
        {"catalogue_product": ["blender-b-200", "blender-b200"]},
    )


def _recompute_deadlines(p):
    t = open_case(p.agent)
    hours = {**settings.raw_values()["deadline_hours"], "normal": [4, 48]}
    settings.save(p.supervisor, {"deadline_hours": hours}, t.created_at)

    def perform():
        recompute_open_deadlines(p.supervisor, utcnow())
        return last_event(t)

    return (
        t,
        p.supervisor,
        perform,
        {
            # from the case's start (09:00): 8 h and 72 h before, 4 h and 48 h now
            "response_due_at": ["2026-11-24T17:00:00+00:00", "2026-11-24T13:00:00+00:00"],
            "resolution_due_at": ["2026-11-27T09:00:00+00:00", "2026-11-26T09:00:00+00:00"],
        },
    )


def _triage(p):
    t = open_case(p.agent)
    return (
        t,
        p.agent,
        lambda: services.triage_case(t, p.agent, version=t.version, priority="urgent", category="billing"),
        {
            "priority": ["normal", "urgent"],
            "category": [None, "billing"],
            # from the case's start (09:00): 8 h and 72 h at normal priority, 1 h and 24 h urgent
            "response_due_at": ["2026-11-24T17:00:00+00:00", "2026-11-24T10:00:00+00:00"],
            "resolution_due_at": ["2026-11-27T09:00:00+00:00", "2026-11-25T09:00:00+00:00"],
        },
    )


def _escalate(p):
    t = open_case(p.agent)
    return (
        t,
        p.agent,
        lambda: services.escalate_case(
            t, p.agent, version=t.version, reason="Threatens to go to the press", priority="high", assignee=p.supervisor
        ),
        {
            "priority": ["normal", "high"],
            "assignee": ["agent@example.com", "supervisor@example.com"],
            "reason": [None, "Threatens to go to the press"],
        },
    )


def _auto_escalate(p):
    from ticketing.clock import utcnow

    t = open_case(p.agent)
    return t, None, lambda: services.escalate_overdue(t, utcnow()), {"priority": ["normal", "high"]}


# Who the log names when no staff member acts (default: the customer).
ACTOR_NAMES = {"suggest_compensation": "scheduler", "auto_escalate": "scheduler"}

SIDE_SCENARIOS = {
    "create": _create,
    "attach": _attach,
    "rate": _rate,
    "record_survey": _record_survey,
    "suggest_compensation": _suggest_compensation,
    "add_preventive_action": _add_preventive_action,
    "complete_preventive_action": _complete_preventive_action,
    "verify_preventive_action": _verify_preventive_action,
    "customer_merged": _customer_merged,
    "revoke_links": _revoke_links,
    "product_merged": _product_merged,
}
CASE_SCENARIOS = {
    "listen": _listen,
    "apologise": _apologise,
    "analyse": _analyse,
    "propose": _propose,
    "approve_compensation": _approve_compensation,
    "refuse_compensation": _refuse_compensation,
    "customer_accepts": _customer_accepts,
    "customer_rejects": _customer_rejects,
    "carry_out": _carry_out,
    "follow_up": _follow_up,
    "record_review": _record_review,
    "approve_review": _approve_review,
    "return_review": _return_review,
    "assign": _assign,
    "note": _note,
    "message": _message,
    "cancel": _cancel,
    "merge": _merge,
    "reopen": _reopen,
    "customer_reopens": _customer_reopens,
    "triage": _triage,
    "escalate": _escalate,
    "auto_escalate": _auto_escalate,
    "recompute_deadlines": _recompute_deadlines,
}
SCENARIOS = {**SIDE_SCENARIOS, **CASE_SCENARIOS}


def test_every_workflow_action_has_a_log_scenario():
    from ticketing.cases import workflow

    assert set(SCENARIOS) == set(workflow.ACTIONS)


@pytest.mark.parametrize("action", list(SCENARIOS))
def test_each_action_writes_exactly_one_event_with_before_and_after(people, frozen_clock, action):
    ticket, actor, perform, expected = SCENARIOS[action](people)
    before = event_count()
    frozen_clock.move(minutes=5)
    perform()
    db.session.commit()
    ticket = ticket["ticket"] if isinstance(ticket, dict) else ticket  # "create" makes its case as it acts
    assert event_count() == before + 1
    event = last_event(ticket)
    assert event.action == action
    assert event.actor_id == (actor.id if actor is not None else None)
    assert event.actor_name == (actor.name if actor is not None else ACTOR_NAMES.get(action, "customer"))
    assert event.created_at == frozen_clock.now
    assert {field: event.changes.get(field) for field in expected} == expected


@pytest.mark.parametrize("action", list(CASE_SCENARIOS))
def test_rolled_back_action_leaves_no_event_and_no_change(people, frozen_clock, action):
    ticket, _actor, perform, _expected = SCENARIOS[action](people)
    before, events = snapshot(ticket), event_count()
    frozen_clock.move(minutes=5)
    event = perform()
    assert isinstance(event, Event) and event in db.session  # staged in the action's open transaction
    db.session.rollback()
    assert event_count() == events
    assert snapshot(ticket) == before


def test_refused_action_leaves_no_event(people):
    ticket = open_case(people.agent)
    events = event_count()
    with pytest.raises(WorkflowError):
        services.approve_review(ticket, people.supervisor, version=ticket.version)
    db.session.commit()
    assert event_count() == events


def test_taking_a_complaint_logs_its_creation_then_step_one(people, frozen_clock):
    ticket = open_case(people.agent)
    create, listen = events_of(ticket)
    assert (create.action, create.actor_name, listen.action) == ("create", "Ann Agent", "listen")
    assert create.changes["reference"] == [None, ticket.reference]
    assert create.changes["channel"] == [None, "phone"]
    assert create.changes["assignee"] == [None, "agent@example.com"]
    assert listen.changes["step"] == ["listen", "apologise"]
    assert create.created_at == listen.created_at == frozen_clock.now


def test_customer_is_logged_as_customer(app):
    customer = services.find_or_create_customer("Han Meimei", "han@example.com", None)
    ticket = services.take_complaint(None, customer=customer, subject="Late", description="Late", channel="web")
    services.send_message(ticket, None, body="Any news?")
    db.session.commit()
    assert [(e.action, e.actor_id, e.actor_name) for e in events_of(ticket)] == [
        ("create", None, "customer"),
        ("message", None, "customer"),
    ]
    assert ticket.responded_at is None  # the customer's own message is not a response


def test_approved_compensation_logs_the_total(people):
    ticket = resolving(people, amount=300)
    services.approve_compensation(ticket, people.supervisor, version=ticket.version)
    db.session.commit()
    old, new = last_event(ticket).changes["compensation_total"]
    assert old is None and Decimal(new) == Decimal("300")


def test_log_keeps_the_actors_name_after_a_rename(people):
    ticket = open_case(people.agent)
    people.agent.name = "Ann Renamed"
    db.session.commit()
    assert last_event(ticket).actor_name == "Ann Agent"


def test_log_reads_in_the_order_things_happened(people, frozen_clock):
    ticket = open_case(people.agent)
    for step in ("analyse", "resolve", "follow_up"):
        frozen_clock.move(hours=1)
        to_step(ticket, people.agent, step)
    events = events_of(ticket)
    assert [e.action for e in events] == [
        "create",
        "listen",
        "apologise",
        "analyse",
        "propose",
        "customer_accepts",
        "carry_out",
    ]
    times = [e.created_at for e in events]
    assert times == sorted(times)
    assert times[-1] - times[0] == timedelta(hours=3)
