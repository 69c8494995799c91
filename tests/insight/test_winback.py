"""Win-back actions: started by a supervisor, reminded to the owner when due, completed or cancelled."""

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.insight.risk_data import T0, app, customer, listened, ticket  # noqa: F401 (app: the pinned app fixture)
from ticketing.cases import winback
from ticketing.cases.models import Reminder
from ticketing.cases.winback import WinBackAction
from ticketing.cases.workflow import WorkflowError
from ticketing.extensions import db
from ticketing.notify import messages
from ticketing.notify.models import Notification
from ticketing.scheduling.dispatcher import dispatch_due

DUE = date(2026, 11, 27)
DUE_AT = datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai


@pytest.fixture
def angry_customer(app, frozen_clock):
    who = customer("Gold Gao", tier="gold")
    listened(ticket(who, created_at=T0 - timedelta(days=2)), "angry")
    db.session.commit()
    return who


def start(who, actor, owner, **overrides):
    fields = dict(owner=owner, due_date=DUE, plan="Call her, offer a visit from the manager")
    action = winback.start_win_back(who, actor, **{**fields, **overrides})
    db.session.commit()
    return action


def reminder_of(action) -> Reminder:
    return db.session.scalar(select(Reminder).where(Reminder.key == f"win_back_due:{action.id}"))


def test_starting_keeps_a_reminder_for_the_owner_at_nine_on_the_due_date(angry_customer, supervisor, agent):
    action = start(angry_customer, supervisor, agent)
    reminder = reminder_of(action)
    assert (reminder.kind, reminder.user_id, reminder.audience, reminder.status) == (
        "win_back_due",
        agent.id,
        "user",
        "pending",
    )
    assert reminder.due_at == DUE_AT
    assert action.status == "open" and action.created_by_id == supervisor.id


def test_the_owner_is_notified_when_it_falls_due_not_before(angry_customer, supervisor, agent):
    action = start(angry_customer, supervisor, agent)
    dispatch_due(DUE_AT - timedelta(minutes=1))
    assert db.session.scalars(select(Notification)).all() == []
    dispatch_due(DUE_AT)
    [notice] = db.session.scalars(select(Notification)).all()
    assert (notice.user_id, notice.kind, notice.ticket_id) == (agent.id, "win_back_due", None)
    assert messages.title(notice.kind, notice.details) == "A win-back action you own is due: Gold Gao"
    assert "Call her" in messages.body(notice.kind, notice.details)
    dispatch_due(DUE_AT + timedelta(hours=1))
    assert len(db.session.scalars(select(Notification)).all()) == 1
    assert reminder_of(action).status == "sent"


def test_completing_it_cancels_the_reminder(angry_customer, supervisor, agent):
    action = start(angry_customer, supervisor, agent)
    winback.complete_win_back(action, agent, outcome="retained", note="She accepted the visit.")
    db.session.commit()
    assert (action.status, action.outcome, action.closed_by_id) == ("done", "retained", agent.id)
    assert reminder_of(action).status == "cancelled"
    dispatch_due(DUE_AT + timedelta(days=1))
    assert db.session.scalars(select(Notification)).all() == []


def test_a_supervisor_cancels_with_a_reason(angry_customer, supervisor, agent):
    action = start(angry_customer, supervisor, agent)
    with pytest.raises(WorkflowError):
        winback.cancel_win_back(action, agent, reason="Not needed")
    winback.cancel_win_back(action, supervisor, reason="The customer moved abroad.")
    db.session.commit()
    assert (action.status, action.outcome_note) == ("cancelled", "The customer moved abroad.")
    assert reminder_of(action).status == "cancelled"
    with pytest.raises(WorkflowError):
        winback.complete_win_back(action, supervisor, outcome="lost", note="too late")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(due_date=date(2026, 11, 23)), "The due date is in the past."),
        (dict(plan="   "), "Say how the customer will be won back."),
    ],
)
def test_bad_input_is_refused_with_a_reason(angry_customer, supervisor, agent, change, message):
    with pytest.raises(WorkflowError) as refused:
        start(angry_customer, supervisor, agent, **change)
    assert str(refused.value.reason) == message


def test_only_supervisors_start_one_and_only_one_stays_open(angry_customer, supervisor, agent, make_user):
    with pytest.raises(WorkflowError):
        start(angry_customer, agent, agent)
    start(angry_customer, supervisor, agent)
    with pytest.raises(WorkflowError) as refused:
        start(angry_customer, supervisor, agent)
    assert str(refused.value.reason) == "This customer already has an open win-back action."
    gone = make_user("agent", "gone@example.com")
    gone.active = False
    with pytest.raises(WorkflowError):
        start(customer("Other"), supervisor, gone)


def test_only_the_owner_or_a_supervisor_completes_it(angry_customer, supervisor, agent, make_user):
    action = start(angry_customer, supervisor, agent)
    colleague = make_user("agent", "colleague@example.com")
    with pytest.raises(WorkflowError):
        winback.complete_win_back(action, colleague, outcome="retained", note="done")
    with pytest.raises(WorkflowError):
        winback.complete_win_back(action, agent, outcome="nonsense", note="done")


# --- the pages -------------------------------------------------------------------------------------


def test_a_supervisor_starts_one_from_the_at_risk_page(client, angry_customer, supervisor, agent):
    login(client, supervisor.email)
    page = client.get("/insight/at-risk").get_data(as_text=True)
    assert "Gold Gao" in page and "Angry at intake" in page and "Start a win-back action" in page
    prefix = f"c{angry_customer.id}-"
    response = client.post(
        f"/insight/at-risk/{angry_customer.id}/win-back",
        data={prefix + "owner": agent.id, prefix + "due_date": "2026-11-27", prefix + "plan": "Call her today"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/insight/win-back")
    action = db.session.scalars(select(WinBackAction)).one()
    assert (action.owner_id, action.plan, action.risk_score, action.reasons) == (
        agent.id,
        "Call her today",
        5,
        ["angry", "high_value"],
    )
    assert "Call her today" in client.get("/insight/win-back").get_data(as_text=True)


def test_a_bad_form_is_answered_next_to_the_field(client, angry_customer, supervisor, agent):
    login(client, supervisor.email)
    prefix = f"c{angry_customer.id}-"
    response = client.post(
        f"/insight/at-risk/{angry_customer.id}/win-back",
        data={prefix + "owner": agent.id, prefix + "due_date": "not a date", prefix + "plan": ""},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Say how the customer will be won back." in page and "Not a valid date value." in page
    assert db.session.scalars(select(WinBackAction)).all() == []
    missing = client.post("/insight/at-risk/999999/win-back", data={})
    assert missing.status_code == 404


def test_a_bad_form_for_a_customer_not_listed_still_says_what_is_wrong(client, angry_customer, supervisor, agent):
    calm = customer("Calm Cai")
    db.session.commit()
    login(client, supervisor.email)
    response = client.post(
        f"/insight/at-risk/{calm.id}/win-back",
        data={f"c{calm.id}-owner": agent.id, f"c{calm.id}-due_date": "2026-11-27", f"c{calm.id}-plan": ""},
    )
    assert response.status_code == 422
    assert "Say how the customer will be won back." in response.get_data(as_text=True)


def test_the_owner_sees_and_completes_their_own_and_nobody_elses(client, angry_customer, supervisor, agent, make_user):
    mine = start(angry_customer, supervisor, agent, plan="My plan")
    theirs = start(customer("Other One"), supervisor, supervisor, plan="Their plan")
    login(client, agent.email)
    page = client.get("/insight/win-back").get_data(as_text=True)
    assert "My plan" in page and "Their plan" not in page
    assert (
        client.post(f"/insight/win-back/{theirs.id}/done", data={"outcome": "retained", "note": "x"}).status_code == 404
    )
    response = client.post(f"/insight/win-back/{mine.id}/done", data={"outcome": "retained", "note": "Visited."})
    assert response.status_code == 302
    db.session.refresh(mine)
    assert (mine.status, mine.outcome) == ("done", "retained")
    done_page = client.get("/insight/win-back?status=done").get_data(as_text=True)
    assert "Visited." in done_page and "Retained" in done_page


def test_an_agent_cannot_cancel_and_an_empty_outcome_is_refused(client, angry_customer, supervisor, agent):
    action = start(angry_customer, supervisor, agent)
    login(client, agent.email)
    client.post(f"/insight/win-back/{action.id}/cancel", data={"reason": "no"})
    client.post(f"/insight/win-back/{action.id}/done", data={"outcome": "", "note": "x"})
    db.session.refresh(action)
    assert action.status == "open"
    page = client.get("/insight/win-back").get_data(as_text=True)
    assert "Choose what came of it." in page and "Only a supervisor can do this." in page


def test_the_due_notification_opens_the_win_back_page(client, angry_customer, supervisor, agent):
    start(angry_customer, supervisor, agent)
    dispatch_due(DUE_AT)
    notice = db.session.scalars(select(Notification)).one()
    login(client, agent.email)
    response = client.post(f"/notifications/{notice.id}")
    assert response.headers["Location"].endswith("/insight/win-back")
