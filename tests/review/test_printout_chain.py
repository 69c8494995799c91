"""The record chain on paper and on screen: seq and hash per event in the CSV, the record-log page and
the printed report, the case's chain head, and a supervisor's check of one case's chain."""

import csv
import html
import io
import re

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.databases import behind_the_applications_back
from tests.factories import open_case, to_step
from ticketing.cases import chain
from ticketing.cases.audit import Event
from ticketing.extensions import db


@pytest.fixture
def case(frozen_clock, agent, supervisor):
    ticket = open_case(agent)
    to_step(ticket, agent, "follow_up", approver=supervisor, amount=500)
    db.session.commit()
    return ticket


def _events(ticket) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.seq)))


def _page(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _text(fragment: str) -> str:
    """What a reader sees of a piece of HTML: the text without tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _tamper(event: Event) -> None:
    """Rewrite one event behind the application's back, as someone with database access could."""
    behind_the_applications_back(
        "events", "UPDATE events SET actor_name = 'Someone Else' WHERE id = :id", {"id": event.id}
    )
    db.session.expire_all()


def _export_rows(client, ticket) -> tuple[list[str], list[list[str]]]:
    response = client.get("/record-log/export.csv", query_string={"reference": ticket.reference})
    assert response.status_code == 200
    header, *rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    return header, rows


def test_the_csv_carries_each_events_seq_and_hash_as_stored(client, case, supervisor):
    login(client, supervisor.email)
    header, rows = _export_rows(client, case)
    assert header[-2:] == ["Seq", "Hash"]
    assert header[:3] == ["Time (UTC, ISO 8601)", "Time (Asia/Shanghai)", "Case"]  # the old columns keep their places
    stored = {str(event.seq): event.hash for event in _events(case)}
    exported = {row[-2]: row[-1] for row in rows}
    assert exported == stored and len(rows) == len(stored) > 5
    assert all(re.fullmatch(r"[0-9a-f]{64}", value) for value in exported.values())


def test_the_csv_headers_are_in_chinese_for_a_chinese_reader(client, case, make_user):
    login(client, make_user("supervisor", locale="zh_CN").email)
    header, _rows = _export_rows(client, case)
    assert header[-2:] == ["序号", "哈希值"]


def test_the_record_log_page_shows_each_events_seq_and_short_hash(client, case, supervisor):
    login(client, supervisor.email)
    page = _page(client.get("/record-log/", query_string={"reference": case.reference}))
    for event in _events(case):
        row = re.search(rf'<tr id="event-{event.id}">(.*?)</tr>', page, re.S).group(1)
        assert f'<td class="seq">{event.seq}</td>' in row
        assert f'<code title="{event.hash}">{event.hash[:12]}</code>' in row  # the full hash one click away
        assert f'<code class="hash-full">{event.hash}</code>' in row


def test_the_printed_report_shows_every_events_full_hash_and_the_chain_head(client, case, agent, frozen_clock):
    login(client, agent.email)  # any staff member may print a case
    page = _page(client.get(f"/record-log/cases/{case.reference}/report"))
    events = _events(case)
    log = page[page.index('class="compact record-log"') :]
    assert re.findall(r'<td class="seq">(\d+)</td>', log) == [str(event.seq) for event in events]
    printed = [_text(cell) for cell in re.findall(r'<span class="hash-print">(.*?)</span></td>', log)]
    assert printed == [event.hash for event in events]  # whole, in print, in the order of the log
    head = events[-1]
    chain_part = _text(page[page.index('class="report-section report-chain"') :])
    assert f"Chain head: seq {head.seq}, hash {head.hash}" in chain_part
    assert f"({frozen_clock.now:%Y-%m-%d %H:%M:%S} UTC)" in chain_part  # the moment it was read
    assert "flask audit verify" in chain_part and "must match the hash of the same case and seq" in chain_part


def test_the_printed_report_is_in_the_readers_language(client, case, make_user):
    login(client, make_user("agent", locale="zh_CN").email)
    head = _events(case)[-1]
    page = _text(_page(client.get(f"/record-log/cases/{case.reference}/report")))
    assert f"链头：序号 {head.seq}，哈希值 {head.hash}" in page
    assert "flask audit verify" in page and "链头" in page and "Chain head" not in page


def test_the_check_reports_an_intact_chain_with_its_head(client, case, supervisor):
    login(client, supervisor.email)
    log_page = _page(client.get("/record-log/", query_string={"reference": case.reference.lower()}))
    assert f'href="/record-log/cases/{case.reference}/chain"' in log_page
    events = _events(case)
    page = _text(_page(client.get(f"/record-log/cases/{case.reference}/chain")))
    assert f"Intact: {len(events)} events, head seq {events[-1].seq}." in page
    assert events[-1].hash in page and "Broken" not in page


def test_the_check_names_the_event_tampered_behind_the_applications_back(client, case, agent, supervisor):
    other = open_case(agent, name="Han Meimei", email="han@example.com")
    db.session.commit()
    target = _events(case)[2]
    _tamper(target)
    login(client, supervisor.email)
    response = client.get(f"/record-log/cases/{case.reference}/chain")
    page = _page(response)
    _checked, broken = chain.verify_case(Event, case.id)
    assert broken.event_id == target.id
    assert f"Broken at seq {target.seq}: {broken.problem}" in _text(page)
    assert f'href="/record-log/?reference={case.reference}#event-{target.id}"' in page
    assert "Intact" not in _text(page)
    intact = _text(_page(client.get(f"/record-log/cases/{other.reference}/chain")))  # another case's chain holds
    count = len(_events(other))
    assert f"Intact: {count} events, head seq {count}." in intact


def test_the_check_speaks_chinese_to_a_chinese_supervisor(client, case, make_user):
    login(client, make_user("supervisor", locale="zh_CN").email)
    events = _events(case)
    page = _text(_page(client.get(f"/record-log/cases/{case.reference}/chain")))
    assert f"完整：共 {len(events)} 个事件，链头序号 {events[-1].seq}。" in page


def test_only_supervisors_may_check_a_chain_as_only_they_browse_the_log(client, case, agent, supervisor):
    login(client, agent.email)
    assert client.get(f"/record-log/cases/{case.reference}/chain").status_code == 403
    report = _page(client.get(f"/record-log/cases/{case.reference}/report"))
    assert "/chain" not in report  # the agent's printout offers no check they could not open
    client.post("/logout")
    login(client, supervisor.email)
    assert f'href="/record-log/cases/{case.reference}/chain"' in _page(
        client.get(f"/record-log/cases/{case.reference}/report")
    )


def test_the_check_of_an_unknown_case_is_not_found(client, supervisor):
    login(client, supervisor.email)
    assert client.get("/record-log/cases/C-1999-000001/chain").status_code == 404


def test_the_whole_log_offers_no_check_until_it_is_narrowed_to_one_case(client, case, supervisor):
    login(client, supervisor.email)
    assert "/chain" not in _page(client.get("/record-log/"))
