"""The workflow rules on their own: no database, stand-in tickets and actors.

The expectations below are written out by hand from the six handling steps (DOMAIN.md) and
the workflow vocabulary (DESIGN.md); they are deliberately not derived from workflow.RULES.
"""

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest

from config import TestConfig
from tests.unit.helpers import fake_actor, fake_ticket
from ticketing import create_app
from ticketing.cases import workflow
from ticketing.cases.workflow import Context, WorkflowError

STEPS = ["listen", "apologise", "analyse", "resolve", "follow_up", "review"]
STATUSES = ["open", "closed", "cancelled"]
RESOLUTION_STATES = ["none", "awaiting_approval", "refused", "awaiting_customer", "accepted", "rejected", "carried_out"]
LIMITS = {"agent": 200, "supervisor": 5000, "admin": 5000}
AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)

OWNER = fake_actor(1, "agent")  # the agent the case is assigned to
COLLEAGUE = fake_actor(2, "agent")  # another agent
SUPERVISOR = fake_actor(3, "supervisor")
ADMIN = fake_actor(4, "admin")
CUSTOMER = None  # the customer, through the portal
OPEN_TARGET = fake_ticket(id=20, step="analyse")
TODAY = AT.date()
OPEN_FIX = SimpleNamespace(status="open", owner_id=OWNER.id)  # a preventive action owned by OWNER
DONE_FIX = SimpleNamespace(status="done", owner_id=OWNER.id)

# --- the independent tables ---------------------------------------------------

ANY_STEP = set(STEPS)
OPEN = {"open"}
ENDED = {"closed", "cancelled"}

# action: (steps it may be taken at, statuses it may be taken in)
ALLOWED_AT = {
    "listen": ({"listen"}, OPEN),
    "apologise": ({"apologise"}, OPEN),
    "analyse": ({"analyse"}, OPEN),
    "propose": ({"resolve"}, OPEN),
    "approve_compensation": ({"resolve"}, OPEN),
    "refuse_compensation": ({"resolve"}, OPEN),
    "customer_accepts": ({"resolve"}, OPEN),
    "customer_rejects": ({"resolve"}, OPEN),
    "carry_out": ({"resolve"}, OPEN),
    "follow_up": ({"follow_up"}, OPEN),
    "record_review": ({"review"}, OPEN),
    "approve_review": ({"review"}, OPEN),
    "return_review": ({"review"}, OPEN),
    "assign": (ANY_STEP, OPEN),
    "note": (ANY_STEP, OPEN | ENDED),
    "message": (ANY_STEP, OPEN),
    "cancel": (ANY_STEP, OPEN),
    "merge": (ANY_STEP, OPEN),
    "reopen": (ANY_STEP, ENDED),
    "customer_reopens": (ANY_STEP, {"closed"}),
    "triage": (ANY_STEP, OPEN),
    "escalate": (ANY_STEP, OPEN),
    "auto_escalate": (ANY_STEP, OPEN),
    "recompute_deadlines": (ANY_STEP, OPEN),
    # side actions: the case's file grows, the case itself does not change
    "create": (ANY_STEP, OPEN),
    "attach": (ANY_STEP, OPEN),
    "rate": (ANY_STEP, OPEN | ENDED),
    "record_survey": (ANY_STEP, OPEN | ENDED),
    "suggest_compensation": (ANY_STEP, OPEN),
    "add_preventive_action": (ANY_STEP, OPEN | ENDED),
    "complete_preventive_action": (ANY_STEP, OPEN | ENDED),
    "verify_preventive_action": (ANY_STEP, OPEN | ENDED),
    "customer_merged": (ANY_STEP, OPEN | ENDED),
    "revoke_links": (ANY_STEP, OPEN | ENDED),
    "product_merged": (ANY_STEP, OPEN | ENDED),
}

# action: (who acts, ticket fields, action data) under which every guard is satisfied
FAVOURABLE = {
    "listen": (OWNER, {}, {}),
    "apologise": (OWNER, {}, {}),
    "analyse": (OWNER, {}, {}),
    "propose": (
        OWNER,
        {"analysed_at": AT},
        {
            "promised_date": TODAY + timedelta(days=3),
            "today": TODAY,
            "lines": [{"type": "refund", "amount": Decimal("40")}],
        },
    ),
    "approve_compensation": (
        SUPERVISOR,
        {"analysed_at": AT, "resolution_state": "awaiting_approval"},
        {"amount": Decimal("300")},
    ),
    "refuse_compensation": (
        SUPERVISOR,
        {"analysed_at": AT, "resolution_state": "awaiting_approval"},
        {"reason": "Too generous for a leaking kettle"},
    ),
    "customer_accepts": (CUSTOMER, {"analysed_at": AT, "resolution_state": "awaiting_customer"}, {}),
    "customer_rejects": (
        CUSTOMER,
        {"analysed_at": AT, "resolution_state": "awaiting_customer"},
        {"reason": "I want a refund, not a repair"},
    ),
    "carry_out": (OWNER, {"analysed_at": AT, "resolution_state": "accepted"}, {}),
    "follow_up": (OWNER, {"analysed_at": AT, "resolution_state": "carried_out"}, {"outcome": "satisfied"}),
    "record_review": (OWNER, {"resolution_state": "carried_out"}, {}),
    "approve_review": (SUPERVISOR, {"review_recorded_at": AT}, {}),
    "return_review": (
        SUPERVISOR,
        {"review_recorded_at": AT},
        {"return_to": "resolve", "reason": "The refund was never paid"},
    ),
    "assign": (SUPERVISOR, {}, {"assignee": COLLEAGUE}),
    "note": (OWNER, {}, {}),
    "message": (OWNER, {}, {}),
    "cancel": (OWNER, {}, {"reason": "Withdrawn by the customer"}),
    "merge": (OWNER, {}, {"reason": "Same kettle, second call", "target": OPEN_TARGET}),
    "reopen": (SUPERVISOR, {}, {"reason": "The kettle leaks again"}),
    "customer_reopens": (
        CUSTOMER,
        {"closed_at": AT},
        {"reason": "It leaks again", "now": AT + timedelta(days=3), "reopen_days": 30},
    ),
    "triage": (OWNER, {"priority": "normal"}, {"priority": "urgent"}),
    "escalate": (OWNER, {"priority": "normal"}, {"reason": "Threatens to go to the press", "priority": "high"}),
    "auto_escalate": (CUSTOMER, {}, {}),  # no actor: the scheduler
    "recompute_deadlines": (SUPERVISOR, {}, {}),
    "create": (OWNER, {}, {}),
    "attach": (CUSTOMER, {}, {}),
    "rate": (CUSTOMER, {}, {}),
    "record_survey": (OWNER, {}, {}),
    "suggest_compensation": (CUSTOMER, {}, {}),  # no actor: the scheduler
    "add_preventive_action": (SUPERVISOR, {}, {}),
    "complete_preventive_action": (OWNER, {}, {"preventive_action": OPEN_FIX}),
    "verify_preventive_action": (SUPERVISOR, {}, {"preventive_action": DONE_FIX}),
    "customer_merged": (COLLEAGUE, {}, {}),
    "revoke_links": (OWNER, {}, {"live_links": 2}),
    "product_merged": (SUPERVISOR, {}, {}),
}

# Where an allowed action leads, for each step it starts from (missing: the step stays).
LEADS_TO = {
    "listen": {"listen": "apologise"},
    "apologise": {"apologise": "analyse"},
    "analyse": {"analyse": "resolve"},
    "carry_out": {"resolve": "follow_up"},
    "follow_up": {"follow_up": "review"},
    "return_review": {"review": "resolve"},
    # Back to analysis; a case cancelled before its analysis goes on from where it stopped.
    "reopen": {
        "listen": "listen",
        "apologise": "apologise",
        "analyse": "analyse",
        "resolve": "analyse",
        "follow_up": "analyse",
        "review": "analyse",
    },
    "customer_reopens": dict.fromkeys(STEPS, "analyse"),
}

# Actions that depend on where the proposed resolution stands, and the states they need.
NEEDS_RESOLUTION_STATE = {
    "propose": {"none", "rejected", "refused"},
    "approve_compensation": {"awaiting_approval"},
    "refuse_compensation": {"awaiting_approval"},
    "customer_accepts": {"awaiting_customer"},
    "customer_rejects": {"awaiting_customer"},
    "carry_out": {"accepted"},
    "follow_up": {"carried_out"},
}

# Who may act: the assigned agent, a colleague, an agent on an unassigned case, supervisors, the customer.
WORKERS = {"assigned_agent", "agent_on_unassigned_case", "supervisor", "admin"}
SUPERVISORS = {"supervisor", "admin"}
ALLOWED_ACTORS = {
    "listen": WORKERS,
    "apologise": WORKERS,
    "analyse": WORKERS,
    "propose": WORKERS,
    "carry_out": WORKERS,
    "follow_up": WORKERS,
    "record_review": WORKERS,
    "approve_compensation": SUPERVISORS,
    "refuse_compensation": SUPERVISORS,
    "approve_review": SUPERVISORS,
    "return_review": SUPERVISORS,
    "reopen": SUPERVISORS,
    "customer_accepts": WORKERS | {"customer"},
    "customer_rejects": WORKERS | {"customer"},
    "message": WORKERS | {"customer"},
    "assign": {"agent_on_unassigned_case", "supervisor", "admin"},
    "note": WORKERS | {"colleague"},
    "cancel": WORKERS,
    "merge": WORKERS,
    "customer_reopens": {"customer"},
    # staff who work the case correct its triage, or escalate it; the scheduler escalates a missed deadline
    "triage": WORKERS,
    "escalate": WORKERS,
    "auto_escalate": {"customer"},
    # after a change of the deadline hours, on the settings page
    "recompute_deadlines": SUPERVISORS,
    "create": {"customer", "assigned_agent", "colleague", "agent_on_unassigned_case", "supervisor", "admin"},
    "attach": {"customer"},
    "rate": {"customer"},
    # staff who work the case take down the answers a customer gave on the phone
    "record_survey": WORKERS,
    "suggest_compensation": {"customer"},
    "add_preventive_action": SUPERVISORS,
    "verify_preventive_action": SUPERVISORS,
    # the owner of the preventive action (the assigned agent here) or a supervisor
    "complete_preventive_action": {"assigned_agent", "supervisor", "admin"},
    # any staff member who merges two records of the customer moves the case along
    "customer_merged": {"assigned_agent", "colleague", "agent_on_unassigned_case", "supervisor", "admin"},
    # staff who work the case end its private links (one reached the wrong person)
    "revoke_links": WORKERS,
    # any staff member who merges two products of the catalogue moves the case along (the page is supervisors')
    "product_merged": {"assigned_agent", "colleague", "agent_on_unassigned_case", "supervisor", "admin"},
}
ACTOR_KINDS = ["customer", "assigned_agent", "colleague", "agent_on_unassigned_case", "supervisor", "admin"]


def home(action) -> tuple[str, str]:
    """A step and status at which `action` belongs (the first of each, in workflow order)."""
    steps, statuses = ALLOWED_AT[action]
    return next(s for s in STEPS if s in steps), next(s for s in STATUSES if s in statuses)


def favourable(action, actor="default", data=None, **ticket_fields):
    """A context in which `action` passes every guard, unless the arguments spoil it."""
    default_actor, fields, default_data = FAVOURABLE[action]
    step, status = home(action)
    ticket = fake_ticket(**{"step": step, "status": status, **fields, **ticket_fields})
    return Context(
        ticket, default_actor if actor == "default" else actor, default_data if data is None else data, LIMITS
    )


def with_actor(action, kind) -> Context:
    actor = {
        "customer": CUSTOMER,
        "assigned_agent": OWNER,
        "colleague": COLLEAGUE,
        "agent_on_unassigned_case": COLLEAGUE,
        "supervisor": SUPERVISOR,
        "admin": ADMIN,
    }[kind]
    data = dict(FAVOURABLE[action][2])
    if action == "assign":
        data["assignee"] = actor or COLLEAGUE  # agents may only take a case for themselves
    assignee = None if kind == "agent_on_unassigned_case" else OWNER.id
    return favourable(action, actor=actor, data=data, assignee_id=assignee)


def reason(action, ctx) -> str | None:
    found = workflow.refusal(action, ctx)
    return None if found is None else str(found)


@pytest.fixture(autouse=True)
def english():
    """Reasons are lazy strings: read them inside an (English, database-free) app context."""
    config = type("PureConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with create_app(config).app_context():
        yield


def test_the_tables_name_every_workflow_action():
    assert set(ALLOWED_AT) == set(FAVOURABLE) == set(ALLOWED_ACTORS) == set(workflow.ACTIONS)


# --- every allowed and every forbidden transition ------------------------------


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("action", list(ALLOWED_AT))
def test_each_action_is_allowed_only_at_its_own_steps_and_statuses(action, step, status):
    steps, statuses = ALLOWED_AT[action]
    expected = step in steps and status in statuses
    assert (workflow.refusal(action, favourable(action, step=step, status=status)) is None) is expected


@pytest.mark.parametrize("action,step", [(a, s) for a in ALLOWED_AT for s in STEPS if s in ALLOWED_AT[a][0]])
def test_each_allowed_action_leads_to_its_next_step(action, step):
    status = home(action)[1]
    ctx = favourable(action, step=step, status=status)
    assert workflow.refusal(action, ctx) is None
    assert workflow.next_step(action, ctx.ticket, ctx.data) == LEADS_TO.get(action, {}).get(step, step)


@pytest.mark.parametrize("state", RESOLUTION_STATES)
@pytest.mark.parametrize("action", list(NEEDS_RESOLUTION_STATE))
def test_resolution_actions_need_the_right_resolution_state(action, state):
    ctx = favourable(action, resolution_state=state)
    assert (workflow.refusal(action, ctx) is None) is (state in NEEDS_RESOLUTION_STATE[action])


@pytest.mark.parametrize("state", RESOLUTION_STATES)
@pytest.mark.parametrize("action", ["assign", "note", "message", "cancel", "merge"])
def test_actions_around_the_steps_ignore_the_resolution_state(action, state):
    assert workflow.refusal(action, favourable(action, step="resolve", resolution_state=state)) is None


@pytest.mark.parametrize("kind", ACTOR_KINDS)
@pytest.mark.parametrize("action", list(ALLOWED_ACTORS))
def test_each_action_is_allowed_only_to_the_right_people(action, kind):
    assert (workflow.refusal(action, with_actor(action, kind)) is None) is (kind in ALLOWED_ACTORS[action])


# --- the reasons people read -----------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "listen",
        "apologise",
        "analyse",
        "propose",
        "carry_out",
        "follow_up",
        "record_review",
        "cancel",
        "merge",
        "message",
        "customer_accepts",
        "triage",
        "escalate",
    ],
)
def test_agent_cannot_act_on_another_agents_case(action):
    assert (
        reason(action, favourable(action, actor=COLLEAGUE))
        == "This case is assigned to someone else; ask a supervisor to reassign it."
    )


@pytest.mark.parametrize(
    "action",
    [
        "listen",
        "apologise",
        "analyse",
        "propose",
        "carry_out",
        "follow_up",
        "record_review",
        "cancel",
        "merge",
        "note",
        "assign",
        "triage",
        "escalate",
    ],
)
def test_customer_cannot_take_staff_actions(action):
    assert reason(action, favourable(action, actor=CUSTOMER)) == "Only staff can do this."


@pytest.mark.parametrize(
    "action", ["approve_compensation", "refuse_compensation", "approve_review", "return_review", "reopen"]
)
@pytest.mark.parametrize("actor", [OWNER, COLLEAGUE, CUSTOMER], ids=["own_agent", "other_agent", "customer"])
def test_only_a_supervisor_approves_returns_reviews_and_reopens(action, actor):
    assert reason(action, favourable(action, actor=actor)) == "Only a supervisor can do this."


def test_agent_cannot_approve_compensation_even_within_their_own_limit():
    ctx = favourable("approve_compensation", actor=OWNER, data={"amount": Decimal("50")})
    assert reason("approve_compensation", ctx) == "Only a supervisor can do this."


@pytest.mark.parametrize(
    "action", ["cancel", "merge", "reopen", "refuse_compensation", "customer_rejects", "return_review", "escalate"]
)
@pytest.mark.parametrize("given", [None, "", "   \n"], ids=["missing", "empty", "blank"])
def test_a_reason_is_required(action, given):
    data = {**FAVOURABLE[action][2], "reason": given}
    assert reason(action, favourable(action, data=data)) == "Please give a reason."


def test_customer_may_accept_without_giving_a_reason():
    assert reason("customer_accepts", favourable("customer_accepts", data={})) is None


@pytest.mark.parametrize("return_to", [None, "listen", "apologise", "follow_up", "review", "nowhere"])
def test_unsatisfied_follow_up_must_go_back_to_analysis_or_resolution(return_to):
    ctx = favourable("follow_up", data={"outcome": "unsatisfied", "return_to": return_to})
    assert (
        reason("follow_up", ctx) == "An unsatisfied customer sends the case back to analysis or resolution: choose one."
    )


@pytest.mark.parametrize("return_to", ["analyse", "resolve"])
def test_unsatisfied_follow_up_goes_back_to_the_chosen_step(return_to):
    ctx = favourable("follow_up", data={"outcome": "unsatisfied", "return_to": return_to})
    assert reason("follow_up", ctx) is None
    assert workflow.next_step("follow_up", ctx.ticket, ctx.data) == return_to


@pytest.mark.parametrize("return_to", [None, "analyse"])
def test_satisfied_follow_up_goes_on_to_review_whatever_return_step_is_given(return_to):
    ctx = favourable("follow_up", data={"outcome": "satisfied", "return_to": return_to})
    assert reason("follow_up", ctx) is None
    assert workflow.next_step("follow_up", ctx.ticket, ctx.data) == "review"


@pytest.mark.parametrize("return_to", ["listen", "apologise", "analyse", "resolve", "follow_up"])
def test_review_can_be_returned_to_any_earlier_step(return_to):
    ctx = favourable("return_review", data={"return_to": return_to, "reason": "Summary is missing the cause"})
    assert reason("return_review", ctx) is None
    assert workflow.next_step("return_review", ctx.ticket, ctx.data) == return_to


@pytest.mark.parametrize("return_to", [None, "review", "closed"])
def test_review_cannot_be_returned_without_an_earlier_step(return_to):
    ctx = favourable("return_review", data={"return_to": return_to, "reason": "Incomplete"})
    assert reason("return_review", ctx) == "Choose the step the case goes back to."


def test_review_approval_needs_the_summary_recorded():
    ctx = favourable("approve_review", review_recorded_at=None)
    assert (
        reason("approve_review", ctx) == "The summary and lessons must be recorded before the review can be approved."
    )


def test_merge_needs_a_target():
    ctx = favourable("merge", data={"reason": "Duplicate"})
    assert reason("merge", ctx) == "Name the case this one duplicates."


def test_case_cannot_be_merged_into_itself():
    ticket_id = FAVOURABLE["merge"][2]["target"].id
    ctx = favourable("merge", id=ticket_id)
    assert reason("merge", ctx) == "A case cannot be merged into itself."


@pytest.mark.parametrize("target_status", ["closed", "cancelled"])
def test_case_cannot_be_merged_into_an_ended_case(target_status):
    target = fake_ticket(id=30, status=target_status)
    ctx = favourable("merge", data={"reason": "Duplicate", "target": target})
    assert reason("merge", ctx) == "A case can only be merged into an open case."


def test_supervisor_approves_compensation_up_to_their_own_limit():
    ctx = favourable("approve_compensation", data={"amount": Decimal("5000")})
    assert reason("approve_compensation", ctx) is None


def test_supervisor_cannot_approve_compensation_above_their_own_limit():
    ctx = favourable("approve_compensation", data={"amount": Decimal("5000.01")})
    assert reason("approve_compensation", ctx) == "This compensation is above your own approval limit (5000)."


def test_admin_with_a_higher_limit_approves_what_a_supervisor_cannot():
    ticket = fake_ticket(step="resolve", resolution_state="awaiting_approval", analysed_at=AT)
    limits = {**LIMITS, "admin": 20000}
    assert workflow.refusal("approve_compensation", Context(ticket, ADMIN, {"amount": 12000}, limits)) is None
    assert workflow.refusal("approve_compensation", Context(ticket, SUPERVISOR, {"amount": 12000}, limits)) is not None


def test_proposal_needs_an_analysed_cause():
    assert reason("propose", favourable("propose", analysed_at=None)) == "A resolution needs an analysed cause first."


def test_second_proposal_is_refused_while_one_awaits_approval():
    ctx = favourable("propose", resolution_state="awaiting_approval")
    assert reason("propose", ctx) == "A proposal is already under way: Compensation awaiting supervisor approval."


MISSING = [
    ("approve_compensation", "awaiting_customer", "No compensation is waiting for approval."),
    ("refuse_compensation", "none", "No compensation is waiting for approval."),
    ("customer_accepts", "awaiting_approval", "No proposal is waiting for the customer's answer."),
    ("customer_rejects", "accepted", "No proposal is waiting for the customer's answer."),
    ("carry_out", "awaiting_customer", "The customer has not accepted the proposed resolution yet."),
    ("follow_up", "accepted", "Follow-up needs the resolution carried out first."),
]


@pytest.mark.parametrize("action,state,expected", MISSING, ids=[f"{a}-{s}" for a, s, _ in MISSING])
def test_resolution_actions_explain_what_is_missing(action, state, expected):
    assert reason(action, favourable(action, resolution_state=state)) == expected


def test_step_action_at_another_step_names_the_current_step():
    assert (
        reason("analyse", favourable("analyse", step="listen"))
        == "This case is at step “Accept and listen”; that action belongs to another step."
    )


@pytest.mark.parametrize("status,label", [("closed", "Closed"), ("cancelled", "Cancelled")])
@pytest.mark.parametrize(
    "action", ["listen", "propose", "follow_up", "approve_review", "assign", "message", "cancel", "merge"]
)
def test_ended_case_refuses_every_action_but_notes_and_reopening(action, status, label):
    found = reason(action, favourable(action, status=status))
    assert found is not None
    assert f"This case is {label}" in found and "nothing more can be done" in found


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_ended_case_still_takes_internal_notes(status):
    assert reason("note", favourable("note", status=status)) is None


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_supervisor_reopens_an_ended_case_but_an_agent_cannot(status):
    assert reason("reopen", favourable("reopen", status=status)) is None
    assert reason("reopen", favourable("reopen", status=status, actor=OWNER)) == "Only a supervisor can do this."


def test_open_case_cannot_be_reopened():
    assert reason("reopen", favourable("reopen", status="open")) == "Only a closed or cancelled case can be reopened."


def test_agent_cannot_reassign_a_case():
    ctx = favourable("assign", actor=OWNER, data={"assignee": COLLEAGUE})
    assert reason("assign", ctx) == "Only a supervisor can reassign a case."


def test_agent_takes_an_unassigned_case_only_for_themselves():
    ctx = favourable("assign", actor=COLLEAGUE, data={"assignee": OWNER}, assignee_id=None)
    assert reason("assign", ctx) == "An agent can only take an unassigned case for themselves."
    ctx = favourable("assign", actor=COLLEAGUE, data={"assignee": COLLEAGUE}, assignee_id=None)
    assert reason("assign", ctx) is None


def test_supervisor_reassigns_a_case_assigned_to_someone_else():
    assert reason("assign", favourable("assign", data={"assignee": SUPERVISOR})) is None


def test_unknown_action_is_refused():
    assert reason("teleport", favourable("note")) == "Unknown action."


# --- check() and offered_actions() ------------------------------------------------


def test_check_raises_the_refusal_reason():
    with pytest.raises(WorkflowError) as raised:
        workflow.check("approve_review", favourable("approve_review", actor=OWNER))
    assert str(raised.value) == str(raised.value.reason) == "Only a supervisor can do this."


def test_check_passes_silently_when_allowed():
    assert workflow.check("listen", favourable("listen")) is None


def offered(ticket, actor):
    return workflow.offered_actions(Context(ticket, actor, {}, LIMITS))


def test_assigned_agent_is_offered_a_proposal_once_the_cause_is_analysed():
    ticket = fake_ticket(step="resolve", analysed_at=AT)
    assert offered(ticket, OWNER) == {"propose", "note", "message", "cancel", "merge", "triage", "escalate"}


def test_supervisor_is_offered_approval_whatever_the_amount():
    ticket = fake_ticket(step="resolve", analysed_at=AT, resolution_state="awaiting_approval")
    assert offered(ticket, SUPERVISOR) == {
        "approve_compensation",
        "refuse_compensation",
        "assign",
        "note",
        "message",
        "cancel",
        "merge",
        "triage",
        "escalate",
    }


def test_customer_is_offered_an_answer_to_the_proposal():
    ticket = fake_ticket(step="resolve", analysed_at=AT, resolution_state="awaiting_customer")
    assert offered(ticket, CUSTOMER) == {"customer_accepts", "customer_rejects", "message"}


def test_agent_is_offered_to_take_an_unassigned_case():
    ticket = fake_ticket(assignee_id=None)
    assert offered(ticket, COLLEAGUE) == {
        "listen",
        "assign",
        "note",
        "message",
        "cancel",
        "merge",
        "triage",
        "escalate",
    }


def test_colleague_is_offered_only_a_note():
    assert offered(fake_ticket(step="analyse"), COLLEAGUE) == {"note"}


def test_supervisor_is_offered_the_review_decision():
    ticket = fake_ticket(step="review", review_recorded_at=AT, resolution_state="carried_out")
    assert offered(ticket, SUPERVISOR) == {
        "record_review",
        "approve_review",
        "return_review",
        "assign",
        "note",
        "message",
        "cancel",
        "merge",
        "triage",
        "escalate",
    }


@pytest.mark.parametrize("status", ["closed", "cancelled"])
def test_ended_case_offers_notes_to_agents_and_reopening_to_supervisors(status):
    ticket = fake_ticket(step="review", status=status)
    assert offered(ticket, OWNER) == {"note"}
    assert offered(ticket, SUPERVISOR) == {"note", "reopen"}
    # A closed case may be reopened by its customer (within the window the service checks).
    assert offered(ticket, CUSTOMER) == ({"customer_reopens"} if status == "closed" else set())


# --- the rules about an action's data ---------------------------------------------


def _proposal(**data):
    return favourable("propose", data={**FAVOURABLE["propose"][2], **data})


@pytest.mark.parametrize(
    "days,expected",
    [
        (-1, "The promised date cannot be in the past."),
        (0, None),
        (730, None),
        (731, "The promised date must be within the next two years."),
    ],
)
def test_the_promised_date_is_today_or_later_and_within_two_years(days, expected):
    assert reason("propose", _proposal(promised_date=TODAY + timedelta(days=days))) == expected


def test_a_proposal_needs_a_promised_date():
    assert reason("propose", _proposal(promised_date=None)) == "Give the date the resolution will be done by."


@pytest.mark.parametrize("kind", ["refund", "voucher", "discount", "replacement", "repair"])
def test_economic_compensation_needs_an_amount(kind):
    assert (
        reason("propose", _proposal(lines=[{"type": kind, "amount": None}])) == "Economic compensation needs an amount."
    )


@pytest.mark.parametrize("kind", ["apology_letter", "gift", "personal_visit", "manager_call"])
def test_emotional_compensation_needs_no_amount(kind):
    assert reason("propose", _proposal(lines=[{"type": kind, "amount": None}])) is None


def test_compensation_amounts_cannot_be_negative():
    assert (
        reason("propose", _proposal(lines=[{"type": "refund", "amount": Decimal("-5")}]))
        == "Compensation amounts cannot be negative."
    )


def test_a_data_refusal_names_the_field_it_is_about():
    with pytest.raises(WorkflowError) as refused:
        workflow.check("propose", _proposal(promised_date=TODAY - timedelta(days=1)))
    assert refused.value.field == "promised_date"
    with pytest.raises(WorkflowError) as refused:
        workflow.check(
            "propose", _proposal(lines=[{"type": "gift", "amount": None}, {"type": "refund", "amount": None}])
        )
    assert refused.value.field == "lines.1"


KIND_NEEDED = "The customer is judged lost or at risk: say what kind of churn this is."
CAUSE_NEEDED = "The customer is judged lost or at risk: say what causes it."
NO_CHURN = "The customer is retained: leave the kind and the cause of churn empty."


@pytest.mark.parametrize(
    "retention,churn_type,churn_cause,expected",
    [
        ("lost", None, "price", KIND_NEEDED),
        ("at_risk", "", "price", KIND_NEEDED),
        ("lost", "competitive", None, CAUSE_NEEDED),
        ("at_risk", "competitive", "", CAUSE_NEEDED),
        ("lost", "competitive", "price", None),
        ("at_risk", "fraudulent", "other", None),
        ("retained", "competitive", None, NO_CHURN),
        ("retained", None, "price", NO_CHURN),
        ("retained", "", "", None),
    ],
)
def test_churn_is_judged_when_a_customer_leaves_and_not_otherwise(retention, churn_type, churn_cause, expected):
    data = {"outcome": "satisfied", "retention": retention, "churn_type": churn_type, "churn_cause": churn_cause}
    assert reason("follow_up", favourable("follow_up", data=data)) == expected


def test_a_finished_preventive_action_cannot_be_finished_again():
    ctx = favourable("complete_preventive_action", data={"preventive_action": DONE_FIX})
    assert reason("complete_preventive_action", ctx) == "This action is already done."


def test_only_a_finished_preventive_action_can_be_verified():
    ctx = favourable("verify_preventive_action", data={"preventive_action": OPEN_FIX})
    assert reason("verify_preventive_action", ctx) == "Only a finished action can be verified."


def test_links_are_revoked_only_while_one_works():
    ctx = favourable("revoke_links", data={"live_links": 0})
    assert reason("revoke_links", ctx) == "No private link of this case works now: there is nothing to revoke."


# --- re-triage and escalation -------------------------------------------------------


def test_a_triage_that_changes_nothing_is_refused_next_to_the_first_field():
    ctx = favourable("triage", data={"priority": "normal", "subject": "Leaking kettle"}, subject="Leaking kettle")
    assert reason("triage", ctx) == "Nothing would change: the case already has these values."
    with pytest.raises(WorkflowError) as refused:
        workflow.check("triage", ctx)
    assert refused.value.field == "priority" and refused.value.status == 422


def test_a_triage_that_changes_one_field_of_several_is_allowed():
    ctx = favourable("triage", data={"priority": "normal", "category": "billing"}, category=None)
    assert reason("triage", ctx) is None


def test_an_escalation_raises_the_priority_or_hands_the_case_on():
    ctx = favourable("escalate", data={"reason": "Press"})
    assert reason("escalate", ctx) == "Raise the priority, hand the case to someone, or both."
    assert reason("escalate", favourable("escalate", data={"reason": "Press", "assignee": SUPERVISOR})) is None


@pytest.mark.parametrize("priority", ["normal", "low", "nonsense"])
def test_an_escalation_never_lowers_or_keeps_the_priority(priority):
    ctx = favourable("escalate", data={"reason": "Press", "priority": priority})
    assert reason("escalate", ctx) == "An escalation raises the priority: choose one above “Normal”."


def test_an_urgent_case_is_escalated_by_handing_it_on():
    ctx = favourable("escalate", data={"reason": "Press", "priority": "urgent"}, priority="urgent")
    assert reason("escalate", ctx) == "The case is already urgent: hand it to someone to escalate it."


def test_a_case_is_not_escalated_to_its_own_holder():
    ctx = favourable("escalate", data={"reason": "Press", "assignee": OWNER})
    assert reason("escalate", ctx) == "The case is already theirs: choose someone else, or only raise the priority."


def test_only_the_scheduler_escalates_by_itself():
    assert reason("auto_escalate", favourable("auto_escalate", actor=SUPERVISOR)) == "Only the scheduler does this."


def test_side_actions_never_move_the_case_or_bump_its_version():
    side = {name for name, rule in workflow.RULES.items() if rule.side}
    assert side == {
        "create",
        "note",
        "attach",
        "rate",
        "record_survey",
        "suggest_compensation",
        "add_preventive_action",
        "complete_preventive_action",
        "verify_preventive_action",
        "customer_merged",
        "revoke_links",
        "product_merged",
    }
    assert all(workflow.RULES[name].to is None for name in side)
