"""`triage` and `escalate` through the API, as actions like the others: logged, deadlines timed again,
refused with a problem document when nothing changes or for a token whose owner is not on the case."""

from datetime import datetime, timedelta

from tests.api.payloads import act, create, problem, read
from tests.factories import open_case
from ticketing.cases.deadlines import policy_hours
from ticketing.extensions import db

OTHERS_CASE = "This case is assigned to someone else; ask a supervisor to reassign it."


def last_event(api, reference) -> dict:
    return api.get(f"/api/v1/tickets/{reference}/events").get_json()["items"][-1]


def test_triage_through_the_api_logs_old_and_new_and_moves_the_deadlines(app, api):
    app.config.update(BUSINESS_HOURS=None, CATEGORY_DEADLINE_HOURS={})
    case = create(api, category=None, priority="normal")
    response = act(api, case["reference"], "triage", {"priority": "urgent", "subject": "Kettle K2 leaks"})
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert (answer["priority"], answer["subject"], answer["category"]) == ("urgent", "Kettle K2 leaks", None)
    assert answer["version"] > case["version"]
    start = datetime.fromisoformat(case["created_at"])
    urgent_response, urgent_resolution = policy_hours("urgent", None)
    assert datetime.fromisoformat(answer["response_due_at"]) == start + timedelta(hours=urgent_response)
    assert datetime.fromisoformat(answer["resolution_due_at"]) == start + timedelta(hours=urgent_resolution)
    event = last_event(api, case["reference"])
    assert event["action"] == "triage" and event["actor"]["kind"] == "staff"
    assert event["changes"]["priority"] == {"before": "normal", "after": "urgent"}


def test_a_null_clears_a_field_and_a_missing_one_stays(api):
    case = create(api)  # category "product", product "Kettle K2"
    answer = act(api, case["reference"], "triage", {"category": None}).get_json()
    assert (answer["category"], answer["product"], answer["priority"]) == (None, "Kettle K2", "high")


def test_a_triage_that_changes_nothing_is_a_problem_naming_the_field(api):
    case = create(api)
    body = problem(act(api, case["reference"], "triage", {"priority": "high", "subject": "Leaking kettle"}), 422)
    assert body["detail"] == "Nothing would change: the case already has these values."
    assert read(api, case["reference"])["version"] == case["version"]


def test_a_token_whose_owner_is_not_on_the_case_cannot_triage_or_escalate_it(make_api, agent, make_user):
    ticket = open_case(agent)
    colleague = make_api(make_user("agent", "colleague@example.com", "Cole Colleague"))
    for action, body in [("triage", {"priority": "urgent"}), ("escalate", {"reason": "Mine", "priority": "high"})]:
        assert problem(act(colleague, ticket.reference, action, body), 422)["detail"] == OTHERS_CASE
    db.session.expire_all()
    assert ticket.priority == "normal"


def test_escalate_through_the_api_hands_the_case_to_a_supervisor(api, agent, supervisor):
    ticket = open_case(agent)
    response = act(api, ticket.reference, "escalate", {"reason": "Threatens the press", "assignee_id": supervisor.id})
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["assignee"]["id"] == supervisor.id and answer["priority"] == "normal"
    assert last_event(api, ticket.reference)["action"] == "escalate"


def test_an_escalation_without_a_change_or_to_nobody_known_is_refused(api, agent):
    ticket = open_case(agent)
    body = problem(act(api, ticket.reference, "escalate", {"reason": "Angry"}), 422)
    assert body["detail"] == "Raise the priority, hand the case to someone, or both."
    body = problem(act(api, ticket.reference, "escalate", {"reason": "Angry", "assignee_id": 99999}), 422)
    assert body["detail"] == "There is no active staff member with that id."
    assert problem(act(api, ticket.reference, "escalate", {"priority": "high"}), 422)  # no reason


def test_the_reference_documents_both_actions(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for action in ("triage", "escalate"):
        assert f"/api/v1/tickets/{{reference}}/actions/{action}" in paths
    assert "/api/v1/tickets/{reference}/actions/auto_escalate" not in paths
