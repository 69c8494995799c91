"""One action registry: every action the record log can name is a row of the workflow's rules and of
the registry, performed through Change; reminder rows are written only through the reminder API."""

import ast
from pathlib import Path

from flask_babel import force_locale
from sqlalchemy import select

from ticketing.cases import workflow
from ticketing.cases.actions import ACTIONS, PERFORMABLE
from ticketing.cases.audit import Event
from ticketing.cases.log_text import ACTION_LABELS
from ticketing.extensions import db

PACKAGE = Path(__file__).resolve().parents[2] / "ticketing"


def _calls(name: str) -> list[str]:
    """Every module:line under ticketing/ that calls `name(...)`."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if called == name:
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_the_registry_and_the_rules_name_the_same_actions():
    assert set(ACTIONS) == set(workflow.RULES)


def test_every_action_the_api_or_desk_performs_has_a_service_taking_its_data():
    assert {"listen", "propose", "assign", "merge", "note", "message"} <= set(PERFORMABLE)
    assert ACTIONS["propose"].fields == (
        "method",
        "promised_date",
        "currency",
        "lines",
        "estimated_loss",
        "justification",
    )
    assert ACTIONS["customer_accepts"].fields == ("accepted", "reason")


def test_every_action_has_a_record_log_label_in_both_languages(app):
    # Besides the actions: the one event the upgrade that began sealing records wrote (migration 0016).
    assert set(ACTION_LABELS) == set(ACTIONS) | {"records_sealed"}
    with app.test_request_context():
        for name, label in ACTION_LABELS.items():
            english = str(label)
            with force_locale("zh_CN"):
                chinese = str(label)
            assert english and chinese != english, name


def test_the_record_log_is_written_only_by_change():
    assert [call.split(":")[0] for call in _calls("new_event")] == ["cases/services/base.py"]
    assert [call.split(":")[0] for call in _calls("link_all")] == ["cases/services/base.py"]


def test_reminder_rows_are_made_only_by_the_reminder_api():
    makers = {call.split(":")[0] for call in _calls("Reminder")}
    assert makers == {"cases/reminders.py"}


def test_every_event_the_demo_desk_writes_names_a_registered_action(app):
    from ticketing.demo import load_demo_data

    load_demo_data()
    logged = set(db.session.scalars(select(Event.action).distinct()))
    assert logged and logged <= set(ACTIONS)
    assert {"create", "listen", "propose", "note"} <= logged


def test_the_demo_history_writes_to_no_customer_when_mail_is_set_up(app, inbox):
    """Months of made-up history must not e-mail every demo customer on the first dispatch."""
    from ticketing.cases.models import Reminder
    from ticketing.demo import load_demo_data
    from ticketing.scheduling.dispatcher import dispatch_due

    load_demo_data()
    db.session.commit()
    customer_notices = list(db.session.scalars(select(Reminder.status).where(Reminder.audience == "customer")))
    assert customer_notices and set(customer_notices) <= {"skipped", "cancelled", "pending"}
    dispatch_due()
    assert [to for to, _message in inbox.received if not to[0].endswith("@demo.local")] == []
