"""Daily anchors are incremental: each lists only the heads changed since the one before, links to
it, and carries the log's totals; a folder of them is checked as a chain, and old full anchors still read."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from tests.databases import unprotect
from tests.factories import open_case, to_step
from ticketing import sealing
from ticketing.cases import anchors, services
from ticketing.cases.audit import Event
from ticketing.extensions import db

DAY = datetime(2026, 12, 2, 0, 15, tzinfo=timezone.utc)


@pytest.fixture
def cases(agent, supervisor):
    first = open_case(agent, name="Li Lei", email="li.lei@example.com")
    to_step(first, agent, "follow_up", approver=supervisor, amount=500)
    second = open_case(agent, name="Han Meimei", email="han.meimei@example.com")
    to_step(second, agent, "analyse")
    third = open_case(agent, name="Wang Fang", email="wang.fang@example.com")
    return first, second, third


def _daily(folder, day: int) -> dict:
    return anchors.read(anchors.write(anchors.take(DAY + timedelta(days=day), anchors.newest(folder)), folder))


def _head(ticket_id):
    return db.session.execute(
        select(Event.seq, Event.hash).where(Event.ticket_id == ticket_id).order_by(Event.seq.desc()).limit(1)
    ).one()


def test_the_next_anchor_lists_only_the_heads_changed_and_links_to_the_one_before(agent, cases, tmp_path):
    first, second, _third = cases
    full = _daily(tmp_path, 0)
    assert len(full["cases"]) == 3 and full["previous"] is None
    services.add_note(second, agent, body="Called back.")
    db.session.commit()
    nxt = _daily(tmp_path, 1)
    assert nxt["cases"] == [[second.id, *_head(second.id)]]
    assert nxt["previous"] == {"made_at": full["made_at"], "digest": anchors.digest_of(full)}
    assert nxt["events"] == db.session.scalar(select(func.count(Event.id))) and nxt["heads"] == 3
    assert nxt["max_event_id"] == db.session.scalar(select(func.max(Event.id)))
    assert nxt["heads_digest"] == anchors.take(DAY)["heads_digest"]  # kept up to date = taken afresh
    assert nxt["heads_digest"] != full["heads_digest"]
    quiet = _daily(tmp_path, 2)
    assert quiet["cases"] == [] and quiet["heads_digest"] == nxt["heads_digest"]


def test_a_new_case_joins_the_heads_and_the_digest(agent, cases, tmp_path):
    _daily(tmp_path, 0)
    fourth = open_case(agent, name="Zhang Wei", email="zhang.wei@example.com")
    nxt = _daily(tmp_path, 1)
    assert [row[0] for row in nxt["cases"]] == [fourth.id] and nxt["heads"] == 4
    assert nxt["heads_digest"] == anchors.take(DAY)["heads_digest"]


def test_a_folder_of_anchors_is_checked_as_a_chain(runner, agent, cases, tmp_path):
    first, second, _third = cases
    _daily(tmp_path, 0)
    services.add_note(second, agent, body="Called back.")
    db.session.commit()
    _daily(tmp_path, 1)
    services.add_note(first, agent, body="Courier confirmed.")
    db.session.commit()
    _daily(tmp_path, 2)
    result = runner.invoke(args=["audit", "verify", "--anchors", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Everything anchored in {tmp_path} is still there." in result.output
    middle = sorted(tmp_path.glob("anchor-*.json"))[1]
    middle.rename(tmp_path / "set-aside.json")
    problems = anchors.check_path(tmp_path)
    assert len(problems) == 1 and "an anchor between them was removed" in problems[0]


def test_a_case_cut_short_is_named_by_the_only_anchor_that_had_its_head(agent, cases, tmp_path):
    first, second, third = cases
    _daily(tmp_path, 0)  # the only anchor holding the first case's head
    services.add_note(second, agent, body="Called back.")
    db.session.commit()
    _daily(tmp_path, 1)
    last = _head(first.id).seq
    unprotect("events")
    db.session.execute(text("DELETE FROM events WHERE ticket_id = :t AND seq = :s"), {"t": first.id, "s": last})
    db.session.commit()
    problems = anchors.check_path(tmp_path)
    assert problems == [
        f"{sorted(tmp_path.glob('anchor-*.json'))[0].name}: {first.reference}: event #{last} is gone "
        f"(deleted, or an older backup restored); the anchor of 2026-12-02 had it"
    ]


def test_an_old_full_anchor_is_still_read_and_checked_and_followed(agent, cases, tmp_path):
    first, second, third = cases
    body = {
        "format": "complaint-desk record-log anchor 1",
        "made_at": DAY.isoformat(),
        "events": db.session.scalar(select(func.count(Event.id))),
        "cases": [[case.id, *_head(case.id)] for case in cases],
        "security_log": None,
    }
    body["key_id"], body["seal"] = sealing.seal(body)
    old = anchors.write(body, tmp_path)
    assert anchors.check(anchors.read(old)) == []
    services.add_note(third, agent, body="Called back.")
    db.session.commit()
    nxt = _daily(tmp_path, 1)  # an old anchor has no last event id: the next one lists every head
    assert len(nxt["cases"]) == 3 and nxt["previous"]["digest"] == anchors.digest_of(body)
    assert anchors.check_path(tmp_path) == []
