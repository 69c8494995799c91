"""The queues answer the first questions: which deadline is late or at risk, how old a case is and
when it last moved, how many match, sorted by any column; saved views; supervisors reassign in bulk,
hand an absent colleague's cases over, and an account with open cases is not disabled blindly."""

import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import login
from tests.factories import open_case
from ticketing.cases import services
from ticketing.cases.audit import Event
from ticketing.cases.deadlines import case_deadlines
from ticketing.cases.models import Ticket
from ticketing.cases.saved_views import MAX_VIEWS, SavedView
from ticketing.desk import queries
from ticketing.extensions import db


def references(page: str) -> list[str]:
    return re.findall(r"<strong>(C-\d{4}-\d{6})</strong>", page)


def row_of(page: str, reference: str) -> str:
    start = page.index(f"<strong>{reference}</strong>")
    return page[start : page.index("</tr>", start)]


def running(ticket, name):
    return next(d for d in case_deadlines(ticket) if d.name == name)


def test_the_queue_names_the_deadline_at_risk_then_overdue(client, agent, frozen_clock):
    ticket = open_case(agent, priority="urgent", listen=False)
    response = running(ticket, "response")
    login(client, agent.email)
    assert "Response" not in row_of(client.get("/queue").get_data(as_text=True), ticket.reference).split("Status")[-1]

    frozen_clock.now = response.warn_at + timedelta(minutes=1)
    login(client, agent.email)
    row = row_of(client.get("/queue").get_data(as_text=True), ticket.reference)
    assert "Response at risk" in row and "overdue" not in row.lower()

    frozen_clock.now = response.due_at + timedelta(minutes=1)
    login(client, agent.email)
    row = row_of(client.get("/queue").get_data(as_text=True), ticket.reference)
    assert "Response overdue" in row and "Response at risk" not in row
    assert "row-late" in client.get("/queue").get_data(as_text=True)


def test_rows_show_age_and_last_update_and_the_page_counts_every_match(app, client, agent, frozen_clock):
    app.config["QUEUE_PAGE_SIZE"] = 2
    first = open_case(agent)
    frozen_clock.move(days=3)
    for _ in range(2):
        open_case(agent)
    login(client, agent.email)  # (after the clock moved: a login lasts less than three days)
    page = client.get("/queue?sort=newest").get_data(as_text=True)
    assert "3 cases" in page and len(references(page)) == 2  # the total, not the page
    page = client.get("/queue?sort=oldest").get_data(as_text=True)
    row = row_of(page, first.reference)
    assert "3 days ago" in row and "24 Nov 2026, 17:00" in row  # opened; last updated (Asia/Shanghai)


def test_a_large_count_stops_at_the_limit(monkeypatch, client, agent):
    monkeypatch.setattr(queries, "COUNT_LIMIT", 2)
    for _ in range(3):
        open_case(agent)
    login(client, agent.email)
    page = client.get("/queue").get_data(as_text=True)
    assert "More than 2 cases" in page


def test_column_headers_sort_both_ways(client, agent, frozen_clock):
    made = []
    for _ in range(3):
        made.append(open_case(agent).reference)
        frozen_clock.move(hours=1)
    login(client, agent.email)
    page = client.get("/queue?sort=updated").get_data(as_text=True)
    assert references(page) == made[::-1]
    header = re.search(r'<th scope="col" aria-sort="descending"><a class="sort" href="([^"]+)">Updated', page)
    assert header, "the column in force says its order"
    page = client.get(header.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert references(page) == made  # least recently updated first
    assert re.search(r'aria-sort="ascending"><a class="sort" href="[^"]*sort=updated[&"]', page)


def test_my_cases_has_no_assignee_column_the_team_queue_does(client, agent):
    open_case(agent)
    login(client, agent.email)
    mine = client.get("/queue").get_data(as_text=True)
    team = client.get("/queue?view=team").get_data(as_text=True)
    assert '<th scope="col">Assignee</th>' not in mine and "Ann Agent" not in mine.split("<tbody>")[1]
    assert '<th scope="col">Assignee</th>' in team and "Ann Agent" in team.split("<tbody>")[1]


def test_a_saved_view_keeps_the_filters_and_is_its_owners_alone(client, agent, make_user):
    urgent = open_case(agent, priority="urgent")
    normal = open_case(agent)
    login(client, agent.email)
    answer = client.post(
        "/queue/views", data={"name": "  My   urgent ", "query": "view=team&priority=urgent&x=1&sort=bogus"}
    )
    assert answer.status_code == 302
    view = db.session.scalars(select(SavedView)).one()
    assert view.name == "My urgent" and view.filters == {"view": "team", "priority": "urgent"}
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "The view “My urgent” is saved." in page and ">My urgent</a>" in page
    link = re.search(r"<a href=\"([^\"]+)\"[^>]*>My urgent</a>", page).group(1).replace("&amp;", "&")
    shown = client.get(link).get_data(as_text=True)
    assert urgent.reference in shown and normal.reference not in shown
    assert re.search(r'aria-current="true" class="current">My urgent</a>', shown)  # the view on screen is marked
    assert 'aria-current="true" class="current"' not in client.get("/queue").get_data(as_text=True)

    client.post("/queue/views", data={"name": "My urgent", "query": "view=mine&priority=normal"})
    db.session.expire_all()
    assert db.session.scalars(select(SavedView)).one().filters == {"view": "mine", "priority": "normal"}

    other = make_user("agent")
    other_client = client.application.test_client()
    login(other_client, other.email)
    assert "My urgent" not in other_client.get("/queue").get_data(as_text=True)
    assert other_client.post(f"/queue/views/{view.id}/delete").status_code == 404
    assert client.post(f"/queue/views/{view.id}/delete").status_code == 302
    assert db.session.scalars(select(SavedView)).all() == []


def test_a_view_needs_a_name_and_there_is_a_most(client, agent):
    login(client, agent.email)
    client.post("/queue/views", data={"name": " ", "query": ""})
    assert "Give the view a name." in client.get("/queue").get_data(as_text=True)
    for number in range(MAX_VIEWS):
        client.post("/queue/views", data={"name": f"View {number}", "query": "sort=oldest"})
    client.post("/queue/views", data={"name": "One more", "query": ""})
    assert f"You have {MAX_VIEWS} saved views" in client.get("/queue").get_data(as_text=True)
    assert db.session.query(SavedView).count() == MAX_VIEWS


def _pick(*tickets):
    return [f"{t.id}:{t.version}" for t in tickets]


def test_a_supervisor_reassigns_ticked_cases_each_logged(client, agent, supervisor, make_user):
    cases = [open_case(agent) for _ in range(3)]
    colleague = make_user("agent", name="Cara Colleague")
    login(client, supervisor.email)
    team = client.get("/queue?view=team").get_data(as_text=True)
    assert 'name="cases"' in team and "Reassign the selected cases to" in team
    answer = client.post(
        "/queue/reassign", data={"cases": _pick(*cases[:2]), "assignee": str(colleague.id), "next": "/queue?view=team"}
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/queue?view=team"
    assert "2 cases are reassigned to Cara Colleague." in client.get("/queue?view=team").get_data(as_text=True)
    db.session.expire_all()
    holders = [db.session.get(Ticket, t.id).assignee_id for t in cases]
    assert holders == [colleague.id, colleague.id, agent.id]
    logged = db.session.scalars(select(Event.ticket_id).where(Event.action == "assign")).all()
    assert sorted(logged) == sorted(t.id for t in cases[:2])


def test_a_case_changed_meanwhile_stops_the_whole_reassignment(client, agent, supervisor, make_user):
    cases = [open_case(agent) for _ in range(2)]
    picked = _pick(*cases)
    colleague = make_user("agent")
    services.send_message(cases[1], agent, body="We are on it.")  # after the supervisor's page was shown
    db.session.commit()
    login(client, supervisor.email)
    client.post("/queue/reassign", data={"cases": picked, "assignee": str(colleague.id)})
    page = client.get("/queue?view=team").get_data(as_text=True)
    assert cases[1].reference in page and "Nothing was reassigned." in page
    db.session.expire_all()
    assert {db.session.get(Ticket, t.id).assignee_id for t in cases} == {agent.id}


def test_an_agent_cannot_reassign_in_bulk_or_see_the_boxes(client, agent, make_user):
    ticket = open_case(agent)
    other = make_user("agent")
    login(client, agent.email)
    assert 'name="cases"' not in client.get("/queue?view=team").get_data(as_text=True)
    answer = client.post("/queue/reassign", data={"cases": _pick(ticket), "assignee": str(other.id)})
    assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).assignee_id == agent.id


def test_an_absent_agents_open_cases_go_back_to_the_team_queue_in_one_action(client, agent, supervisor):
    cases = [open_case(agent) for _ in range(3)]
    login(client, supervisor.email)
    page = client.get(f"/queue?view=team&assignee={agent.id}").get_data(as_text=True)
    assert "Ann Agent holds 3 open cases." in page
    client.post("/queue/hand-over", data={"holder": str(agent.id), "assignee": "none"})
    assert "3 cases are back in the team queue." in client.get("/queue?view=team").get_data(as_text=True)
    db.session.expire_all()
    assert {db.session.get(Ticket, t.id).assignee_id for t in cases} == {None}
    assert len(db.session.scalars(select(Event).where(Event.action == "assign")).all()) == 3


def test_disabling_an_account_with_open_cases_asks_where_they_go(client, agent, admin, supervisor):
    cases = [open_case(agent) for _ in range(2)]
    login(client, admin.email)
    page = client.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    assert "Ann Agent holds 2 open cases." in page and "Where their open cases go" in page
    refused = client.post(f"/admin/users/{agent.id}", data={"role": "agent"})
    assert refused.status_code == 422
    assert "choose where they go before disabling the account" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(agent), agent.id).active
    done = client.post(f"/admin/users/{agent.id}", data={"role": "agent", "cases_to": str(supervisor.id)})
    assert done.status_code == 302
    db.session.expire_all()
    assert not db.session.get(type(agent), agent.id).active
    assert {db.session.get(Ticket, t.id).assignee_id for t in cases} == {supervisor.id}


def test_an_account_without_open_cases_is_disabled_without_the_question(client, agent, admin):
    login(client, admin.email)
    assert "Where their open cases go" not in client.get(f"/admin/users/{agent.id}").get_data(as_text=True)
    assert client.post(f"/admin/users/{agent.id}", data={"role": "agent"}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(type(agent), agent.id).active


def test_a_reassignment_of_nothing_or_too_many_is_refused_with_the_reason(client, agent, supervisor, make_user):
    ticket = open_case(agent)
    colleague = make_user("agent")
    login(client, supervisor.email)
    client.post("/queue/reassign", data={"cases": [], "assignee": str(colleague.id)})
    assert "Tick the cases to reassign (at most 200 at once)" in client.get("/queue?view=team").get_data(as_text=True)
    too_many = [f"{ticket.id + n}:1" for n in range(201)]
    client.post("/queue/reassign", data={"cases": too_many, "assignee": str(colleague.id)})
    assert "at most 200 at once" in client.get("/queue?view=team").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).assignee_id == agent.id


def test_the_cases_of_an_account_being_disabled_cannot_go_to_that_account(client, agent, admin):
    ticket = open_case(agent)
    login(client, admin.email)
    refused = client.post(f"/admin/users/{agent.id}", data={"role": "agent", "cases_to": str(agent.id)})
    assert refused.status_code == 422 and "That colleague cannot take cases now." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(agent), agent.id).active and db.session.get(Ticket, ticket.id).assignee_id == agent.id


def test_the_case_page_and_the_search_name_the_pressing_deadline_too(client, agent, frozen_clock):
    ticket = open_case(agent, priority="urgent", listen=False)
    frozen_clock.now = running(ticket, "response").due_at + timedelta(minutes=1)
    login(client, agent.email)
    case = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    header = case[: case.index('class="deadlines"')]
    assert '<span class="badge overdue"' in header and "Response overdue" in header
    assert '<li class="deadline late">' in case
    found = client.get("/search?q=kettle").get_data(as_text=True)
    assert "Response overdue" in row_of(found, ticket.reference)
