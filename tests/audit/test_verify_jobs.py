"""`audit verify --jobs N`: the whole record log read by N processes side by side finds what one
process finds — intact, or the same first broken event with the same count before it."""

import os

import pytest
from sqlalchemy import select

from config import TestConfig
from tests.databases import behind_the_applications_back
from tests.factories import open_case, to_step
from ticketing import create_app
from ticketing.auth.services import create_user
from ticketing.cases import checkpoints
from ticketing.cases.audit import Event
from ticketing.cases.checkpoints import VerifyCheckpoint
from ticketing.extensions import db


@pytest.fixture
def shared_app(tmp_path, app):
    """On SQLite a database in a file (the test run's own is in memory, which no other process can
    open); on PostgreSQL the run's database."""
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        yield app
        return
    config = type("FileConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'log.sqlite'}"})
    own = create_app(config)
    with own.app_context():
        db.create_all()
        yield own
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def seven_cases(shared_app):
    agent = create_user(email="agent@example.com", password="a long password 1", role="agent", name="Ann Agent")
    supervisor = create_user(email="sup@example.com", password="a long password 1", role="supervisor", name="Sam")
    db.session.commit()
    cases = []
    for n in range(7):
        case = open_case(agent, name=f"Customer {n}", email=f"customer{n}@example.com")
        to_step(case, agent, "follow_up" if n % 2 else "resolve", approver=supervisor, amount=100)
        cases.append(case)
    db.session.commit()
    return cases


def _verify(app, *args) -> tuple[int, list[str]]:
    result = app.test_cli_runner().invoke(args=["audit", "verify", *args])
    return result.exit_code, [line for line in result.output.splitlines() if "events/s" not in line]


def test_two_processes_find_the_log_intact_as_one_does_and_leave_the_same_checkpoint(shared_app, seven_cases):
    assert checkpoints._shared()  # other processes can open it: --jobs 2 forks two
    alone = _verify(shared_app)
    side_by_side = _verify(shared_app, "--jobs", "2")
    assert side_by_side == alone and alone[0] == 0
    events = db.session.scalar(select(db.func.count(Event.id)))
    assert f"Record log intact: {events} events verified, with every record they sealed." in alone[1]
    made = db.session.scalars(select(VerifyCheckpoint).order_by(VerifyCheckpoint.id)).all()
    assert [checkpoint.checked for checkpoint in made] == [events, events]


def test_two_processes_name_the_same_first_broken_event(shared_app, seven_cases):
    fifth = seven_cases[4]
    altered = db.session.scalars(select(Event).where(Event.ticket_id == fifth.id).order_by(Event.seq)).all()[2]
    later = db.session.scalars(select(Event).where(Event.ticket_id == seven_cases[6].id)).first()
    for event in (altered, later):
        behind_the_applications_back(
            "events", "UPDATE events SET actor_name = 'Someone Else' WHERE id = :id", {"id": event.id}
        )
    alone = _verify(shared_app)
    side_by_side = _verify(shared_app, "--jobs", "2")
    assert side_by_side == alone and alone[0] != 0
    assert f"at event {altered.id} ({fifth.reference}, event #{altered.seq} of that case)" in "\n".join(alone[1])
