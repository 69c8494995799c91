"""Re-triage and escalation on the desk: the forms on the case page, the queue's "needs triage" mark
and filter, the escalation banner, the new holder's notice, and who may do it."""

import html

from sqlalchemy import select

from tests.conftest import login
from tests.factories import open_case
from ticketing.cases import services
from ticketing.cases.audit import Event
from ticketing.extensions import db
from ticketing.notify.models import Notification
from ticketing.scheduling.dispatcher import dispatch_due


def web_complaint(subject="My blender stopped after a week", email="han@example.com"):
    """A complaint sent through the portal: no category, nobody's yet."""
    customer = services.find_or_create_customer("Han Meimei", email, None)
    ticket = services.take_complaint(
        None, customer=customer, subject=subject, description="It stopped.", channel="web", product="Blender B200"
    )
    db.session.commit()
    return ticket


def act(client, ticket, action, **fields):
    data = {f"{action}-{name}": value for name, value in {"version": ticket.version, **fields}.items()}
    return client.post(f"/tickets/{ticket.reference}/actions/{action}", data=data)


def page(client, ticket) -> str:
    return client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)


def test_the_case_page_offers_a_re_triage_prefilled_with_what_the_case_has(client, agent):
    ticket = open_case(agent, priority="high")
    login(client, agent.email)
    text = page(client, ticket)
    assert "Re-triage" in text and "Escalate" in text
    assert 'name="triage-subject"' in text and 'value="Leaking kettle"' in text
    assert '<option selected value="high">' in text


def test_a_web_complaint_lands_in_the_team_queue_for_triage_and_leaves_it_once_triaged(client, agent):
    ticket = web_complaint()
    categorised = open_case(agent)  # taken on the phone without a category: nobody triaged it either
    services.triage_case(categorised, agent, version=categorised.version, category="product")
    db.session.commit()
    login(client, agent.email)
    queue = client.get("/queue?view=team").get_data(as_text=True)
    assert "1 case waits for triage" in queue
    only = client.get("/queue?view=team&triage=y").get_data(as_text=True)
    assert ticket.reference in only and categorised.reference not in only and "Needs triage" in only
    assert "Nobody has triaged this case yet" in page(client, ticket)

    response = act(
        client, ticket, "triage", category="product", priority="urgent", product="Blender B200", subject=ticket.subject
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (ticket.category, ticket.priority) == ("product", "urgent")
    event = db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id.desc())).first()
    assert event.action == "triage" and event.changes["priority"] == ["normal", "urgent"]
    assert ticket.reference not in client.get("/queue?view=team&triage=y").get_data(as_text=True)
    assert "Re-triaged" in page(client, ticket)  # the record log names it


def test_a_triage_that_changes_nothing_comes_back_with_the_reason(client, agent):
    ticket = open_case(agent)
    login(client, agent.email)
    response = act(client, ticket, "triage", category="", priority="normal", product="", subject="Leaking kettle")
    assert response.status_code == 422
    assert "Nothing would change: the case already has these values." in response.get_data(as_text=True)


def test_an_agent_not_on_the_case_is_not_offered_triage_and_is_refused_it(client, agent, make_user):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    login(client, colleague.email)
    assert 'name="triage-subject"' not in page(client, ticket)
    response = act(client, ticket, "triage", category="billing", priority="urgent", subject="Hijacked")
    assert response.status_code == 409
    assert "This case is assigned to someone else" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (ticket.priority, ticket.subject) == ("normal", "Leaking kettle")


def test_an_escalation_to_a_colleague_tells_them_and_shows_on_the_case(client, agent, supervisor, make_user):
    colleague = make_user("agent", "colleague@example.com", "Cole Colleague")
    ticket = open_case(agent)
    login(client, agent.email)
    reason = "Knows this model <b>best</b>"
    response = act(client, ticket, "escalate", priority="high", assignee=colleague.id, reason=reason)
    assert response.status_code == 302
    db.session.expire_all()
    assert (ticket.assignee_id, ticket.priority) == (colleague.id, "high")

    dispatch_due()
    told = db.session.scalars(select(Notification).where(Notification.kind == "escalated")).all()
    assert [n.user_id for n in told] == [colleague.id]

    client.post("/logout")
    login(client, colleague.email)
    text = page(client, ticket)
    assert "Escalated by Ann Agent" in text and html.escape(reason) in text and reason not in text
    assert "Escalated" in client.get("/queue").get_data(as_text=True)  # the colleague's own queue marks it
    bell = client.get("/notifications/").get_data(as_text=True)
    assert f"Case {ticket.reference} is escalated" in bell


def test_an_escalation_without_a_reason_or_a_change_is_refused_on_the_page(client, agent):
    ticket = open_case(agent)
    login(client, agent.email)
    assert act(client, ticket, "escalate", priority="high", reason="").status_code == 422
    response = act(client, ticket, "escalate", priority="", assignee="", reason="Angry")
    assert response.status_code == 422
    assert "Raise the priority, hand the case to someone, or both." in response.get_data(as_text=True)


def test_the_escalation_banner_names_the_scheduler_when_it_escalated_by_itself(client, agent):
    ticket = open_case(agent)
    services.escalate_overdue(ticket, ticket.created_at)
    db.session.commit()
    login(client, agent.email)
    assert "Escalated automatically" in page(client, ticket)


def test_the_forms_and_the_banner_read_in_chinese(client, agent, make_user):
    chinese = make_user("supervisor", "wang@example.com", "王芳", locale="zh_CN")
    ticket = web_complaint()
    services.escalate_case(ticket, chinese, version=ticket.version, reason="客户很生气", priority="high")
    db.session.commit()
    login(client, chinese.email)
    text = page(client, ticket)
    assert "重新分类" in text and "升级" in text and "王芳" in text and "客户很生气" in text
    assert "Re-triage" not in text and "Escalated by" not in text


def test_the_cases_waiting_for_triage_are_counted_no_further_than_the_limit(client, agent, monkeypatch):
    """Each waiting case costs a look-up in the record log, on every queue page: past the limit the
    queue says "more than" (bench/README.md, #18)."""
    from ticketing.desk import queries, views

    for name in (queries, views):
        monkeypatch.setattr(name, "TRIAGE_COUNT_LIMIT", 2)
    for n in range(2):
        web_complaint(subject=f"Blender {n} stopped", email=f"han{n}@example.com")
    login(client, agent.email)
    assert "2 cases wait for triage" in client.get("/queue?view=team").get_data(as_text=True)
    web_complaint(subject="Blender 3 stopped", email="han3@example.com")
    queue = client.get("/queue?view=team").get_data(as_text=True)
    assert "More than 2 cases wait for triage" in queue and "3 cases wait" not in queue
