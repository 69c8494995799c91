"""Several people writing to one case at the same moment, against the real app in a threaded server.

Eight actions sent with the same version: exactly one wins, the other seven are told 409 (problem+json
from the API, the case page from the desk) and change nothing. Eight notes, or eight messages, sent at
once all land, each with its record-log event, and the log's hash chain stays whole. No answer is a 5xx.

Runs on SQLite (a database file of its own) or, with TEST_DATABASE_URL, on a throw-away PostgreSQL
database. A barrier releases every request at once, so they really overlap in the server.
"""

import http.cookiejar
import json
import os
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from config import Config, TestConfig
from tests.conftest import PASSWORD
from tests.databases import temporary_postgres_database
from tests.factories import open_case
from ticketing import create_app
from ticketing.auth.models import User
from ticketing.auth.services import create_user
from ticketing.auth.tokens import issue_token
from ticketing.cases import chain
from ticketing.cases.audit import Event
from ticketing.cases.models import Message, Note, Ticket
from ticketing.cases.search.finder import search_cases
from ticketing.cases.search.query import parse
from ticketing.extensions import db

WRITERS = 8
PROBLEM = "application/problem+json"


@dataclass
class Answer:
    status: int
    content_type: str
    body: str


class Browser:
    """A person at the desk: a cookie jar, CSRF tokens read from the pages, redirects not followed."""

    class _Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._Stay()
        )

    def request(
        self, path: str, data: dict | None = None, headers: dict | None = None, body: bytes | None = None
    ) -> Answer:
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return Answer(response.status, response.headers.get_content_type(), response.read().decode())
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            with error:
                return Answer(error.code, error.headers.get_content_type(), error.read().decode())

    def csrf(self, path: str) -> str:
        page = self.request(path)
        assert page.status == 200, (path, page.status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.body).group(1)

    def log_in(self, email: str) -> None:
        answer = self.request("/login", {"csrf_token": self.csrf("/login"), "email": email, "password": PASSWORD})
        assert answer.status == 302, answer.body[:500]


class Integrator:
    """An API client with its own bearer token."""

    def __init__(self, base: str, secret: str):
        self.browser, self.secret = Browser(base), secret

    def post(self, path: str, payload: dict) -> Answer:
        return self.browser.request(
            path,
            body=json.dumps(payload).encode(),
            headers={"Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"},
        )


@contextmanager
def _database(tmp_path_factory):
    base = os.environ.get("TEST_DATABASE_URL", "")
    if base.startswith("postgresql"):
        with temporary_postgres_database(base, "ticketing_writers") as url:
            yield url
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('writers') / 'writers.sqlite'}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app as in production (CSRF on, errors not propagated) in werkzeug's threaded server."""
    with _database(tmp_path_factory) as url:
        settings = {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "writers-secret-key",
            "LOGIN_RATE_LIMIT": "1000 per minute",
            "API_RATE_LIMIT": "1000 per minute",
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("writers-uploads")),
            "PASSWORD_HASH_METHOD": TestConfig.PASSWORD_HASH_METHOD,  # production settings, but cheap logins
        }
        app = create_app(type("WritersConfig", (Config,), settings))
        with app.app_context():
            db.create_all()
        http_server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=http_server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{http_server.server_port}"
        finally:
            http_server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture(scope="module")
def people(server):
    """One agent who owns the case, and WRITERS supervisors, each with an API token."""
    app, _base = server
    with app.app_context():
        agent = create_user(email="owner@example.com", password=PASSWORD, role="agent", name="Olive Owner")
        supervisors = [
            create_user(email=f"boss{n}@example.com", password=PASSWORD, role="supervisor", name=f"Boss {n}")
            for n in range(WRITERS)
        ]
        db.session.flush()
        secrets = [issue_token(user, "writers")[1] for user in supervisors]
        db.session.commit()
        return {"agent_id": agent.id, "supervisors": [(u.id, u.email, u.name) for u in supervisors], "secrets": secrets}


@pytest.fixture
def case(server, people):
    """A fresh case at step 2; its reference."""
    app, _base = server
    with app.app_context():
        ticket = open_case(db.session.get(User, people["agent_id"]))
        return ticket.reference


def _version(app, reference) -> int:
    with app.app_context():
        return db.session.scalar(select(Ticket.version).where(Ticket.reference == reference))


def _all_at_once(calls) -> list[Answer]:
    """Run every call in its own thread, released together by a barrier; their answers in order."""
    barrier = threading.Barrier(len(calls))
    answers: list = [None] * len(calls)

    def run(index, call):
        barrier.wait(timeout=30)
        try:
            answers[index] = call()
        except Exception as error:  # a dropped connection counts as a failure, not a hang
            answers[index] = Answer(599, "", repr(error))

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def _figures(label: str, answers: list[Answer]) -> Counter:
    counts = Counter(answer.status for answer in answers)
    print(f"\n{label}: " + ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())))
    assert not [a for a in answers if a.status >= 500], [a.body[:300] for a in answers if a.status >= 500]
    return counts


def _written(app, reference, model, action) -> tuple[int, int]:
    """(rows of `model`, events of `action`) on the case, and the whole record log's chain verified."""
    with app.app_context():
        ticket_id = db.session.scalar(select(Ticket.id).where(Ticket.reference == reference))
        rows = db.session.scalar(select(func.count(model.id)).where(model.ticket_id == ticket_id))
        events = db.session.scalar(
            select(func.count(Event.id)).where(Event.ticket_id == ticket_id, Event.action == action)
        )
        _checked, broken = chain.verify(Event)
        assert broken is None, broken
        return rows, events


def _searchable(app, reference, texts) -> bool:
    """Every one of `texts`, written at the same moment, finds the case: none lost from the index."""
    with app.app_context():
        return all(
            [t.reference for t in search_cases(parse(text), include_notes=True).items] == [reference] for text in texts
        )


def _assignee(app, reference) -> int:
    with app.app_context():
        return db.session.scalar(select(Ticket.assignee_id).where(Ticket.reference == reference))


def test_api_same_version_actions_one_wins_and_concurrent_notes_all_land(server, people, case):
    app, base = server
    version = _version(app, case)
    clients = [Integrator(base, secret) for secret in people["secrets"]]
    url = f"/api/v1/tickets/{case}/actions"
    assigns = [
        lambda c=c, uid=uid: c.post(f"{url}/assign", {"version": version, "assignee_id": uid})
        for c, (uid, _email, _name) in zip(clients, people["supervisors"], strict=True)
    ]
    notes = [
        lambda c=c, n=n: c.post(f"{url}/note", {"version": version, "body": f"API note n{n:03d}"})
        for n, c in enumerate(clients)
    ]
    answers = _all_at_once(assigns + notes)
    actions, noted = answers[:WRITERS], answers[WRITERS:]

    counts = _figures("API assign", actions)
    _figures("API note", noted)
    assert counts == {200: 1, 409: WRITERS - 1}
    [winner] = [i for i, a in enumerate(actions) if a.status == 200]
    winner_id, _email, winner_name = people["supervisors"][winner]
    assert _assignee(app, case) == winner_id
    for lost in (a for a in actions if a.status == 409):
        problem = json.loads(lost.body)
        assert lost.content_type == PROBLEM and problem["type"] == "/api/v1/problems/stale-version"
        assert winner_name in problem["detail"]  # told who, from what the database holds after the winner
    assert [a.status for a in noted] == [200] * WRITERS
    assert _written(app, case, Note, "note") == (WRITERS, WRITERS)
    assert _version(app, case) == version + 1  # the assignment, and nothing for the notes
    assert _searchable(app, case, [f"n{n:03d}" for n in range(WRITERS)])


def test_api_concurrent_messages_all_land(server, people, case):
    app, base = server
    version = _version(app, case)
    clients = [Integrator(base, secret) for secret in people["secrets"]]
    messages = [
        lambda c=c, n=n: c.post(f"/api/v1/tickets/{case}/messages", {"version": version, "body": f"Message m{n:03d}"})
        for n, c in enumerate(clients)
    ]
    answers = _all_at_once(messages)
    _figures("API message", answers)
    assert [a.status for a in answers] == [201] * WRITERS
    assert _written(app, case, Message, "message") == (WRITERS, WRITERS)
    assert _searchable(app, case, [f"m{n:03d}" for n in range(WRITERS)])


def test_desk_same_version_actions_one_wins_and_concurrent_notes_all_land(server, people, case):
    app, base = server
    version = _version(app, case)
    page = f"/tickets/{case}"
    desks = []
    for _uid, email, _name in people["supervisors"]:
        desk = Browser(base)
        desk.log_in(email)
        desks.append((desk, desk.csrf(page)))
    assigns = [
        lambda d=d, t=t, uid=uid: d.request(
            f"{page}/actions/assign", {"assign-csrf_token": t, "assign-version": version, "assign-assignee": uid}
        )
        for (d, t), (uid, _email, _name) in zip(desks, people["supervisors"], strict=True)
    ]
    notes = [
        lambda d=d, t=t, n=n: d.request(f"{page}/actions/note", {"note-csrf_token": t, "note-body": f"Desk note {n}"})
        for n, (d, t) in enumerate(desks)
    ]
    answers = _all_at_once(assigns + notes)
    actions, noted = answers[:WRITERS], answers[WRITERS:]

    counts = _figures("desk assign", actions)
    _figures("desk note", noted)
    assert counts == {302: 1, 409: WRITERS - 1}
    [winner] = [i for i, a in enumerate(actions) if a.status == 302]
    winner_id, _email, winner_name = people["supervisors"][winner]
    assert _assignee(app, case) == winner_id
    for lost in (a for a in actions if a.status == 409):
        assert lost.content_type == "text/html" and f"changed by {winner_name}" in lost.body
    assert [a.status for a in noted] == [302] * WRITERS
    assert _written(app, case, Note, "note") == (WRITERS, WRITERS)
