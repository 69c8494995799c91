"""POST /api/v1/tickets/{reference}/actions/{action} and .../messages: the workflow through the API."""

from decimal import Decimal

import pytest

from tests.api.payloads import (
    ANALYSE,
    APOLOGISE,
    FOLLOW_UP,
    LISTEN,
    REVIEW,
    act,
    create,
    error_fields,
    event_count,
    problem,
    propose,
    read,
)
from tests.factories import open_case, to_step
from ticketing.auth.services import set_active
from ticketing.extensions import db

OTHERS_CASE = "This case is assigned to someone else; ask a supervisor to reassign it."
SUPERVISOR_ONLY = "Only a supervisor can do this."


def events_of(api, reference) -> list[dict]:
    response = api.get(f"/api/v1/tickets/{reference}/events")
    assert response.status_code == 200
    return response.get_json()["items"]


def refused(response, reason: str) -> dict:
    """A 422 from the workflow, with the reason the rules give."""
    body = problem(response, 422)
    assert body["type"] == "/api/v1/problems/workflow" and body["detail"] == reason
    return body


class Walk:
    """One case driven only through the API, checking the answer and the record log after each action."""

    def __init__(self, api, reference):
        self.api, self.reference = api, reference
        self.case = read(api, reference)
        self.events = len(events_of(api, reference))

    def do(self, action, body=None, client=None, **expected):
        client = client or self.api
        response = act(client, self.reference, action, body, version=self.case["version"])
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        if action == "note":  # a note adds to the file without changing the case: open forms stay current
            assert answer["version"] == self.case["version"]
        else:
            assert answer["version"] > self.case["version"]
        assert answer == read(self.api, self.reference) | {"allowed_actions": answer["allowed_actions"]}
        for name, value in expected.items():
            assert answer[name] == value, (action, name, answer[name])
        log = events_of(self.api, self.reference)
        assert len(log) == self.events + 1, f"{action} should write exactly one event"
        assert log[-1]["action"] == action and log[-1]["actor"]["kind"] == "staff"
        self.case, self.events = answer, len(log)
        return answer


def test_a_case_walks_through_all_six_steps_by_api_alone(api, make_api, agent, supervisor):
    boss = make_api(supervisor)
    reference = create(api)["reference"]
    walk = Walk(api, reference)
    assert walk.case["step"] == "listen" and walk.events == 1

    case = walk.do("listen", LISTEN, step="apologise", status="open", resolution_state="none")
    [heard] = case["records"]["listen"]
    assert heard["customer_words"] == LISTEN["customer_words"] and heard["emotion"] == "upset"
    assert heard["restatement_confirmed"] is True

    case = walk.do("apologise", APOLOGISE, step="analyse")
    assert case["records"]["apologise"][0]["wording"] == APOLOGISE["wording"]

    case = walk.do("analyse", ANALYSE, step="resolve", resolution_state="none")
    assert case["records"]["analyse"][0]["root_cause"] == "product"

    # 250 is above the agent's own limit (200): the proposal waits for a supervisor.
    case = walk.do("propose", propose(250), step="resolve", resolution_state="awaiting_approval")
    [resolution] = case["records"]["resolve"]
    assert resolution["state"] == "awaiting_approval" and case["promised_date"] == resolution["promised_date"]
    refund, letter = resolution["compensation"]
    assert (refund["kind"], refund["type"], Decimal(refund["amount"])) == ("economic", "refund", Decimal(250))
    assert (letter["kind"], letter["type"], letter["amount"]) == ("emotional", "apology_letter", None)
    assert refund["approved_at"] is None and letter["description"] == "Signed by the manager"
    assert "approve_compensation" not in case["allowed_actions"]
    assert "approve_compensation" in read(boss, reference)["allowed_actions"]

    case = walk.do(
        "approve_compensation",
        {"comments": "Fair for a leak"},
        client=boss,
        step="resolve",
        resolution_state="awaiting_customer",
    )
    assert all(line["approved_at"] for line in case["records"]["resolve"][0]["compensation"])
    assert events_of(api, reference)[-1]["actor"]["name"] == supervisor.name

    walk.do("customer_accepts", {"reason": "Happy with a new kettle"}, step="resolve", resolution_state="accepted")
    case = walk.do("carry_out", {"note": "Kettle delivered"}, step="follow_up", resolution_state="carried_out")
    assert case["records"]["resolve"][0]["carried_out_note"] == "Kettle delivered"

    case = walk.do("follow_up", FOLLOW_UP, step="review", status="open")
    assert case["records"]["follow_up"][0]["satisfaction"] == 5

    case = walk.do("record_review", REVIEW, step="review", status="open")
    assert case["records"]["review"][0]["decision"] is None
    assert "approve_review" not in case["allowed_actions"]

    case = walk.do("approve_review", {"comments": "Well handled"}, client=boss, step="review", status="closed")
    assert case["closed_at"] is not None and case["records"]["review"][0]["decision"] == "approved"
    assert case["allowed_actions"] == ["note", "reopen"]  # the supervisor's answer
    assert read(api, reference)["allowed_actions"] == ["note"]  # the agent may only add notes now

    assert [event["action"] for event in events_of(api, reference)] == [
        "create",
        "listen",
        "apologise",
        "analyse",
        "propose",
        "approve_compensation",
        "customer_accepts",
        "carry_out",
        "follow_up",
        "record_review",
        "approve_review",
    ]


def test_the_record_log_is_numbered_and_hash_chained(api):
    reference = create(api)["reference"]
    walk = Walk(api, reference)
    walk.do("listen", LISTEN)
    walk.do("note", {"body": "Called back"})
    walk.do("apologise", APOLOGISE)
    log = events_of(api, reference)
    assert [event["seq"] for event in log] == [1, 2, 3, 4]
    assert log[0]["prev_hash"] is None
    for before, after in zip(log, log[1:]):
        assert after["prev_hash"] == before["hash"]
    assert all(len(event["hash"]) == 64 for event in log) and len({event["hash"] for event in log}) == 4
    assert log[2]["changes"]["body"] == {"before": None, "after": "Called back"}
    assert log[1]["changes"]["step"] == {"before": "listen", "after": "apologise"}


def test_an_unsatisfied_follow_up_sends_the_case_back_to_the_step_named(api, agent):
    ticket = to_step(open_case(agent), agent, "follow_up")
    walk = Walk(api, ticket.reference)
    unhappy = dict(FOLLOW_UP, outcome="unsatisfied", satisfaction=2, return_to="resolve")
    case = walk.do("follow_up", unhappy, step="resolve", resolution_state="none")
    assert case["records"]["follow_up"][-1]["return_to"] == "resolve"
    assert case["promised_date"] is None


def test_an_unsatisfied_follow_up_without_return_to_is_refused(api, agent):
    ticket = to_step(open_case(agent), agent, "follow_up")
    events = event_count()
    response = act(api, ticket.reference, "follow_up", dict(FOLLOW_UP, outcome="unsatisfied"))
    [error] = problem(response, 422)["errors"]
    assert error["field"] == "return_to" and "analysis or resolution" in error["message"]
    assert read(api, ticket.reference)["step"] == "follow_up" and event_count() == events


def test_a_supervisor_returns_a_review_to_a_named_step(api, make_api, agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review")
    walk = Walk(api, ticket.reference)
    walk.do("record_review", REVIEW)
    refused(
        act(api, ticket.reference, "return_review", {"return_to": "analyse", "reason": "No root cause"}),
        SUPERVISOR_ONLY,
    )
    case = walk.do(
        "return_review",
        {"return_to": "analyse", "reason": "No root cause"},
        client=make_api(supervisor),
        step="analyse",
        status="open",
        resolution_state="none",
    )
    review = case["records"]["review"][-1]
    assert (review["decision"], review["return_to"], review["comments"]) == ("returned", "analyse", "No root cause")


def test_cancel_then_reopen_by_a_supervisor(api, make_api, agent, supervisor):
    ticket = open_case(agent)  # listened to: at step apologise
    walk = Walk(api, ticket.reference)
    case = walk.do("cancel", {"reason": "Duplicate call"}, status="cancelled")
    assert case["closed_at"] is not None
    refused(
        act(api, ticket.reference, "message", {"body": "Hello?"}),
        "This case is Cancelled; nothing more can be done to it.",
    )
    refused(act(api, ticket.reference, "reopen", {"reason": "Customer called again"}), SUPERVISOR_ONLY)
    case = walk.do(
        "reopen", {"reason": "Customer called again"}, client=make_api(supervisor), status="open", step="apologise"
    )
    assert case["closed_at"] is None


def test_reopening_an_open_case_is_refused(api, make_api, agent, supervisor):
    ticket = open_case(agent)
    refused(
        act(make_api(supervisor), ticket.reference, "reopen", {"reason": "Why not"}),
        "Only a closed or cancelled case can be reopened.",
    )


def test_a_cancel_needs_a_reason(api, agent):
    ticket = open_case(agent)
    assert error_fields(act(api, ticket.reference, "cancel", {"reason": "  "})) == {"reason"}
    assert read(api, ticket.reference)["status"] == "open"


def test_a_duplicate_is_merged_into_the_case_it_repeats(api, agent):
    original, duplicate = open_case(agent), open_case(agent)
    walk = Walk(api, duplicate.reference)
    case = walk.do("merge", {"target": original.reference.lower(), "reason": "Same kettle"}, status="cancelled")
    assert case["merged_into"] == original.reference
    assert events_of(api, duplicate.reference)[-1]["changes"]["merged_into"]["after"] == original.reference


@pytest.mark.parametrize(
    "target, reason",
    [
        ("C-2020-999999", "There is no case with that reference."),
        ("nonsense", "There is no case with that reference."),
        ("Ｃ-２０２６", "There is no case with that reference."),
        (None, "A case cannot be merged into itself."),
    ],
)
def test_a_merge_into_an_unknown_case_or_itself_is_refused(api, agent, target, reason):
    ticket = open_case(agent)
    events = event_count()
    refused(act(api, ticket.reference, "merge", {"target": target or ticket.reference, "reason": "Dup"}), reason)
    assert read(api, ticket.reference)["status"] == "open" and event_count() == events


def test_a_supervisor_assigns_a_case_to_another_staff_member(api, make_api, make_user, agent, supervisor):
    bo = make_user("agent", "bo@example.com", "Bo Agent")
    ticket = open_case(agent)
    walk = Walk(api, ticket.reference)
    case = walk.do("assign", {"assignee_id": bo.id}, client=make_api(supervisor))
    assert case["assignee"] == {"id": bo.id, "name": "Bo Agent"}
    assert events_of(api, ticket.reference)[-1]["changes"]["assignee"] == {"before": agent.email, "after": bo.email}


def test_an_agent_takes_an_unassigned_case_but_cannot_give_it_to_someone_else(api, make_user, agent):
    bo = make_user("agent", "bo@example.com", "Bo Agent")
    reference = create(api)["reference"]
    refused(
        act(api, reference, "assign", {"assignee_id": bo.id}),
        "An agent can only take an unassigned case for themselves.",
    )
    walk = Walk(api, reference)
    assert walk.do("assign", {"assignee_id": agent.id})["assignee"]["id"] == agent.id


def test_assigning_to_a_missing_or_disabled_staff_member_is_refused(api, make_api, make_user, agent, supervisor, admin):
    boss = make_api(supervisor)
    gone = make_user("agent", "gone@example.com", "Gone Agent")
    set_active(gone, False, acting=admin)
    db.session.commit()
    ticket = open_case(agent)
    for assignee_id in (gone.id, 999_999):
        refused(
            act(boss, ticket.reference, "assign", {"assignee_id": assignee_id}),
            "There is no active staff member with that id.",
        )
    assert error_fields(act(boss, ticket.reference, "assign", {"assignee_id": 2**31})) == {"assignee_id"}
    assert read(api, ticket.reference)["assignee"]["id"] == agent.id


def test_a_note_is_internal_and_a_message_is_for_the_customer(api, agent):
    ticket = open_case(agent)
    walk = Walk(api, ticket.reference)
    case = walk.do("note", {"body": "Customer sounded upset"})
    [note] = case["notes"]
    assert note["body"] == "Customer sounded upset" and note["author"]["id"] == agent.id
    assert case["messages"] == []
    case = walk.do("message", {"body": "We are on it."})
    [message] = case["messages"]
    assert message["body"] == "We are on it." and message["from_customer"] is False
    assert len(case["notes"]) == 1


def test_posting_a_message_answers_201_with_the_message_in_the_case(api, agent):
    ticket = open_case(agent)
    events = event_count()
    response = api.post(f"/api/v1/tickets/{ticket.reference}/messages", json={"body": "Your kettle ships today."})
    assert response.status_code == 201
    [message] = response.get_json()["messages"]
    assert message["body"] == "Your kettle ships today." and message["author"]["name"] == agent.name
    assert event_count() == events + 1
    assert events_of(api, ticket.reference)[-1]["action"] == "message"


def test_notes_and_messages_never_conflict_an_old_version_is_ignored(api, agent):
    ticket = open_case(agent)
    old = read(api, ticket.reference)["version"]
    assert act(api, ticket.reference, "apologise", APOLOGISE).status_code == 200
    response = api.post(f"/api/v1/tickets/{ticket.reference}/messages", json={"body": "Hi", "version": old})
    assert response.status_code == 201
    assert act(api, ticket.reference, "note", {"body": "Called back"}, version=old).status_code == 200
    case = read(api, ticket.reference)
    assert [m["body"] for m in case["messages"]] == ["Hi"] and [n["body"] for n in case["notes"]] == ["Called back"]


@pytest.mark.parametrize("action", ["fly_away", "customer_reopens", "create"])
def test_an_unknown_action_is_a_404(api, agent, action):
    ticket = open_case(agent)
    events = event_count()
    body = problem(act(api, ticket.reference, action, {"reason": "x"}), 404)
    assert body["type"] == "/api/v1/problems/unknown-action"
    assert event_count() == events


def test_a_stale_version_is_a_409_and_changes_nothing(api, make_api, agent, supervisor):
    ticket = open_case(agent)
    read_by_agent = read(api, ticket.reference)
    assert act(make_api(supervisor), ticket.reference, "apologise", APOLOGISE).status_code == 200
    now = read(api, ticket.reference)
    events = event_count()
    response = act(
        api, ticket.reference, "apologise", dict(APOLOGISE, wording="Sorry again"), version=read_by_agent["version"]
    )
    body = problem(response, 409)
    assert body["type"] == "/api/v1/problems/stale-version"
    assert body["current_version"] == now["version"] != read_by_agent["version"]
    assert body["title"] == "The case has changed since you read it." and supervisor.name in body["detail"]
    assert event_count() == events and read(api, ticket.reference) == now


def test_a_version_from_the_future_is_stale_too(api, agent):
    ticket = open_case(agent)
    version = read(api, ticket.reference)["version"]
    assert problem(act(api, ticket.reference, "apologise", APOLOGISE, version=version + 1), 409)
    assert read(api, ticket.reference)["records"]["apologise"] == []


def test_a_workflow_refusal_is_a_422_with_the_reason(api, agent):
    ticket = open_case(agent)  # at step apologise: no analysis yet
    events = event_count()
    body = refused(
        act(api, ticket.reference, "propose", propose()),
        "This case is at step “Empathise and apologise”; that action belongs to another step.",
    )
    assert body["title"] == "The workflow does not allow this now."
    assert event_count() == events and read(api, ticket.reference)["resolution_state"] == "none"


def test_an_invalid_action_body_lists_its_fields_and_changes_nothing(api, agent):
    ticket = open_case(agent)
    before = read(api, ticket.reference)
    response = api.post(
        f"/api/v1/tickets/{ticket.reference}/actions/apologise",
        json={"method": "pigeon", "wording": "", "colour": "red"},
    )
    assert error_fields(response) == {"version", "method", "wording", "colour"}
    assert read(api, ticket.reference) == before


@pytest.mark.parametrize(
    "change, field",
    [
        ({"promised_date": "2001-01-01"}, "promised_date"),
        ({"compensation": [{"type": "refund"}]}, "compensation.0"),
        ({"compensation": [{"type": "refund", "amount": "-5"}]}, "compensation.0.amount"),
        ({"currency": "yuan"}, "currency"),
    ],
)
def test_an_invalid_proposal_names_the_field(api, agent, change, field):
    ticket = to_step(open_case(agent), agent, "resolve")
    assert field in error_fields(act(api, ticket.reference, "propose", propose(**change)))
    assert read(api, ticket.reference)["records"]["resolve"] == []


def test_compensation_above_every_approvers_limit_is_refused(api, agent):
    ticket = to_step(open_case(agent), agent, "resolve")
    refused(
        act(api, ticket.reference, "propose", propose(20_001)),
        "This compensation is above every approver's limit (20000); reduce it.",
    )


# --- role rules ---------------------------------------------------------------


def _awaiting_approval(api, agent, amount):
    ticket = to_step(open_case(agent), agent, "resolve")
    assert act(api, ticket.reference, "propose", propose(amount)).get_json()["resolution_state"] == "awaiting_approval"
    return ticket.reference


def test_an_agent_cannot_approve_compensation_above_their_limit(api, agent):
    reference = _awaiting_approval(api, agent, 250)
    refused(act(api, reference, "approve_compensation", {}), SUPERVISOR_ONLY)
    assert read(api, reference)["resolution_state"] == "awaiting_approval"


def test_compensation_within_the_agents_limit_needs_no_approval(api, agent):
    ticket = to_step(open_case(agent), agent, "resolve")
    case = act(api, ticket.reference, "propose", propose(200)).get_json()
    assert case["resolution_state"] == "awaiting_customer"
    assert all(line["approved_at"] for line in case["records"]["resolve"][0]["compensation"])


def test_a_supervisor_approves_compensation_above_the_agents_limit(api, make_api, agent, supervisor):
    reference = _awaiting_approval(api, agent, 250)
    response = act(make_api(supervisor), reference, "approve_compensation", {"comments": "OK"})
    assert response.status_code == 200 and response.get_json()["resolution_state"] == "awaiting_customer"
    assert response.get_json()["records"]["resolve"][0]["decision_reason"] == "OK"


def test_a_supervisor_refuses_compensation_with_a_reason(api, make_api, agent, supervisor):
    reference = _awaiting_approval(api, agent, 250)
    boss = make_api(supervisor)
    assert error_fields(act(boss, reference, "refuse_compensation", {})) == {"reason"}
    case = act(boss, reference, "refuse_compensation", {"reason": "Too generous"}).get_json()
    assert case["resolution_state"] == "refused" and case["promised_date"] is None


def test_a_supervisor_cannot_approve_above_their_own_limit_but_an_admin_can(api, make_api, agent, supervisor, admin):
    reference = _awaiting_approval(api, agent, 6000)
    refused(
        act(make_api(supervisor), reference, "approve_compensation", {}),
        "This compensation is above your own approval limit (5000).",
    )
    response = act(make_api(admin), reference, "approve_compensation", {})
    assert response.status_code == 200 and response.get_json()["resolution_state"] == "awaiting_customer"


def test_an_agent_cannot_act_on_another_agents_case(api, make_user, agent):
    bo = make_user("agent", "bo@example.com", "Bo Agent")
    ticket = open_case(bo)
    events = event_count()
    for action, body in (("apologise", APOLOGISE), ("note", {"body": "Mine now"}), ("cancel", {"reason": "x"})):
        response = act(api, ticket.reference, action, body)
        if action == "note":  # anyone on staff may leave an internal note
            assert response.status_code == 200
            events += 1
        else:
            refused(response, OTHERS_CASE)
    assert read(api, ticket.reference)["step"] == "apologise" and event_count() == events


def test_an_agent_may_read_another_agents_case(api, make_user):
    ticket = open_case(make_user("agent", "bo@example.com", "Bo Agent"))
    case = read(api, ticket.reference)
    assert case["assignee"]["name"] == "Bo Agent" and "apologise" not in case["allowed_actions"]


def test_a_supervisor_works_any_agents_case(api, make_api, make_user, supervisor):
    ticket = open_case(make_user("agent", "bo@example.com", "Bo Agent"))
    response = act(make_api(supervisor), ticket.reference, "apologise", APOLOGISE)
    assert response.status_code == 200 and response.get_json()["step"] == "analyse"


def test_only_a_supervisor_approves_a_review(api, make_api, agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review")
    act(api, ticket.reference, "record_review", REVIEW)
    refused(act(api, ticket.reference, "approve_review", {}), SUPERVISOR_ONLY)
    assert read(api, ticket.reference)["status"] == "open"
    response = act(make_api(supervisor), ticket.reference, "approve_review", {})
    assert response.status_code == 200 and response.get_json()["status"] == "closed"


def test_a_review_cannot_be_approved_before_it_is_recorded(api, make_api, agent, supervisor):
    ticket = to_step(open_case(agent), agent, "review")
    refused(
        act(make_api(supervisor), ticket.reference, "approve_review", {}),
        "The summary and lessons must be recorded before the review can be approved.",
    )
