"""Complaints arriving at the same moment, through the API and the portal, against the real app in a
threaded server: every one is taken (201 / the portal's redirect), none is a 5xx, each gets its own
reference, its create event, its reminders and its private link, and the record log's chain is whole.

On SQLite the writers queue for the one write lock (BEGIN IMMEDIATE at a transaction's first write);
with TEST_DATABASE_URL, the same on a throw-away PostgreSQL database.
"""

import json
import re
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from config import Config, TestConfig
from tests.concurrency.test_concurrent_writers import WRITERS, Browser, Integrator, _all_at_once, _database, _figures
from tests.conftest import PASSWORD
from ticketing import create_app
from ticketing.auth.services import create_user
from ticketing.auth.tokens import issue_token
from ticketing.cases import chain
from ticketing.cases.audit import Event
from ticketing.cases.models import Customer, Reminder, Ticket
from ticketing.cases.portal_access import PortalAccess
from ticketing.extensions import db

EACH = 3  # creates per API client, sent one after another while the other clients send theirs


@pytest.fixture(scope="module")
def intake_server(tmp_path_factory):
    """The app as in production (CSRF on), limits high enough for one address sending every complaint."""
    with _database(tmp_path_factory) as url:
        settings = {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "intake-writers-secret-key",
            "API_RATE_LIMIT": "1000 per minute",
            "PORTAL_RATE_LIMIT": "1000 per minute",
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("intake-uploads")),
            "PASSWORD_HASH_METHOD": TestConfig.PASSWORD_HASH_METHOD,
        }
        app = create_app(type("IntakeWritersConfig", (Config,), settings))
        with app.app_context():
            db.create_all()
            users = [
                create_user(email=f"feed{n}@example.com", password=PASSWORD, role="agent", name=f"Feed {n}")
                for n in range(WRITERS)
            ]
            db.session.flush()
            secrets = [issue_token(user, "intake")[1] for user in users]
            db.session.commit()
        http_server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=http_server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{http_server.server_port}", secrets
        finally:
            http_server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _complaint(n: int, k: int) -> dict:
    return {
        "customer": {"name": "Wang Fang", "email": f"wang{n}.{k}@example.com", "phone": f"+86 139 0000 {n}{k:03d}"},
        "subject": f"Kettle leaks, order {n}-{k}",
        "description": "The kettle leaks after two days.",
        "channel": "phone",
        "category": "product",
        "product": "Kettle K2",
        "priority": "high",
    }


def _api_feed(client: Integrator, n: int) -> list:
    return [client.post("/api/v1/tickets", _complaint(n, k)) for k in range(EACH)]


def _portal_form(browser: Browser, n: int):
    token = browser.csrf("/complain")
    return lambda: browser.request(
        "/complain",
        {
            "csrf_token": token,
            "name": "Zhao Lei",
            "email": f"zhao{n}@example.com",
            "product": "Kettle K2",
            "what_happened": f"The kettle from order P-{n} leaks after two days.",
        },
    )


def test_complaints_sent_at_once_through_the_api_and_the_portal_are_all_taken_whole(intake_server):
    app, base, secrets = intake_server
    clients = [Integrator(base, secret) for secret in secrets]
    feeds = [lambda c=c, n=n: _api_feed(c, n) for n, c in enumerate(clients)]
    forms = [_portal_form(Browser(base), n) for n in range(WRITERS)]
    answers = _all_at_once(feeds + forms)
    api = [answer for feed in answers[:WRITERS] for answer in (feed if isinstance(feed, list) else [feed])]
    portal = answers[WRITERS:]

    _figures("API create", api)
    _figures("portal complaint", portal)
    assert [a.status for a in api] == [201] * WRITERS * EACH
    assert [a.status for a in portal] == [302] * WRITERS
    references = [json.loads(a.body)["reference"] for a in api]
    assert len(set(references)) == len(references)
    with app.app_context():
        tickets = db.session.scalars(select(Ticket)).all()
        assert len(tickets) == WRITERS * (EACH + 1)
        assert set(references) <= {t.reference for t in tickets}
        assert len({t.reference for t in tickets}) == len(tickets)
        numbers = sorted(int(re.search(r"(\d+)$", t.reference).group(1)) for t in tickets)
        assert numbers == list(range(1, len(tickets) + 1))  # the counter skipped and repeated nothing
        creates = db.session.execute(
            select(Event.ticket_id, func.count()).where(Event.action == "create").group_by(Event.ticket_id)
        ).all()
        assert sorted(creates) == sorted((t.id, 1) for t in tickets)
        with_reminders = db.session.scalar(select(func.count(func.distinct(Reminder.ticket_id))))
        assert with_reminders == len(tickets)
        links = db.session.execute(select(PortalAccess.ticket_id, func.count()).group_by(PortalAccess.ticket_id)).all()
        assert sorted(links) == sorted((t.id, 1) for t in tickets)
        assert db.session.scalar(select(func.count(Customer.id))) == len(tickets)  # each its own customer
        _checked, broken = chain.verify(Event)
        assert broken is None, broken
