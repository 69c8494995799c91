"""Hostile values by kind of input, and the requests that carry them into URLs, query strings and forms.

A target names one URL rule as the right user sees it, the form its view reads and a baseline the
form accepts; the fuzzer changes one input at a time (a converter of the rule, a query parameter, a
field of the form), so each hostile value gets as far into the application as it can. The world
holds the users and the cases in each situation the targets need.
"""

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import quote

from wtforms.fields import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FileField,
    FormField,
    HiddenField,
    IntegerField,
    SelectFieldBase,
    StringField,
)

from tests.conftest import login
from tests.factories import open_case, propose, to_step
from ticketing.cases import services
from ticketing.cases.models import Ticket
from ticketing.clock import utcnow
from ticketing.extensions import db

IDS = ("99999999999999999999", "-1", "0", "9223372036854775808")
VERSIONS = ("abc", "1e309", "99999999999999999999")
AMOUNTS = ("sNaN", "NaN", "Infinity", "1e400", "99999999999999")
DATES = ("0001-01-01", "9999-12-31", "2024-02-30")
DATETIMES = tuple(f"{day}T10:00" for day in DATES)
TEXTS = ("a\x00b", "\x1b[31m", "x" * 10_000)
CHOICES = ("a\x00b", "99999999999999999999")
NUMBERS = (*IDS, "1e309")


def _cursor(value, ident) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, ident]).encode()).decode().rstrip("=")


# The `after` parameter of keyset pages: well-formed base64 JSON holding what no column can hold.
CURSORS = (
    _cursor({"t": "0001-01-01T00:00:00"}, 99999999999999999999),
    _cursor("abc", 1),
    _cursor(99999999999999999999, 1),
    _cursor([1, 2], {"a": 1}),
    _cursor({"t": "9999-12-31T23:59:59"}, -1),
    "a\x00b",
    "%%%",
)

# A path segment per converter type; the others of the rule keep their real value.
SEGMENTS = {"int": IDS + ("9" * 5000,), "default": TEXTS, "string": TEXTS}
_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def values_for(form_field) -> tuple[str, ...]:
    """What to send in place of one field's value, by the kind of field."""
    if form_field.short_name == "version":
        return VERSIONS
    kinds = (
        (HiddenField, IDS + TEXTS),
        (StringField, TEXTS),
        (DateTimeLocalField, DATETIMES),
        (DateField, DATES),
        (DecimalField, AMOUNTS),
        (IntegerField, NUMBERS),
        (SelectFieldBase, CHOICES),
        (BooleanField, ()),
        (FileField, ()),
    )
    return next(values for kind, values in kinds if isinstance(form_field, kind))


def leaf_fields(form):
    """The fields a browser sends: sub-forms' fields included, the first entry of a list standing
    for all (they share their code)."""
    for form_field in form:
        if form_field.type == "CSRFTokenField":
            continue
        if isinstance(form_field, FormField):
            yield from leaf_fields(form_field.form)
        elif isinstance(form_field, FieldList):
            entry = form_field.entries[0]
            yield from leaf_fields(entry.form) if isinstance(entry, FormField) else (entry,)
        else:
            yield form_field


def _reasons(response) -> str:
    """What a refusal says: the messages next to the fields and in flashes, else the start of the page."""
    page = response.get_data(as_text=True)
    found = re.findall(r'class="(?:error|flash[^"]*)"[^>]*>([^<]*)<', page)
    return "; ".join(found) if found else page[:300]


def converters(rule: str) -> list[tuple[str, str]]:
    """(type, name) of each variable of a URL rule, e.g. ("int", "attachment_id")."""
    return [(kind or "default", name) for kind, name in _CONVERTER.findall(rule)]


def build_path(rule: str, values: dict) -> str:
    return _CONVERTER.sub(lambda m: quote(str(values[m.group(2)]), safe=""), rule)


@dataclass
class Target:
    """One way in: a URL rule, the user who uses it, the form its view reads and what that form accepts."""

    rule: str
    method: str = "GET"
    user: str | None = "agent"  # a key of World.clients; "customer" is the portal's session
    situation: str | None = None  # the case the request is about (World.case)
    values: Callable = lambda world, case: {}  # real values for the rule's variables
    form: type | None = None
    prefix: str | Callable = ""
    baseline: Callable = lambda world, case: {}  # data the form accepts: the control request succeeds
    params: dict = field(default_factory=dict)  # raw parameters the view reads itself -> hostile values
    control: bool = True  # the baseline must succeed (so the fuzzing is not vacuous)


@dataclass
class Outcome:
    label: str
    status: int | None
    error: str | None = None


class Fuzzer:
    """Sends the hostile requests of targets and keeps what came back."""

    def __init__(self, app, world):
        self.app, self.world = app, world
        self.outcomes: list[Outcome] = []
        self.controls: list[Outcome] = []
        self.rules_done: set[str] = set()

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is None or o.status >= 500]

    def run(self, target: Target) -> None:
        if target.rule not in self.rules_done:
            self.rules_done.add(target.rule)
            for kind, name in converters(target.rule):
                for value in SEGMENTS.get(kind, TEXTS):
                    self._send(target, f"{name}={value[:30]!r}", path={name: value})
        for name, hostile in target.params.items():
            for value in hostile:
                self._send(target, f"{name}={value[:30]!r}", data={name: value})
        for form_field in self._fields(target):
            for value in values_for(form_field):
                self._send(target, f"{form_field.name}={value[:30]!r}", data={form_field.name: value})
        if target.control:
            outcome = self._send(target, "baseline", record=False)
            self.controls.append(outcome)

    def _fields(self, target: Target) -> list:
        if target.form is None:
            return []
        case = self.world.case(target.situation) if target.situation else None
        with self.app.test_request_context():
            return list(leaf_fields(target.form(formdata=None, prefix=self._prefix(target, case))))

    def _prefix(self, target, case) -> str:
        return target.prefix(self.world, case) if callable(target.prefix) else target.prefix

    def _send(self, target: Target, what: str, path=None, data=None, record=True) -> Outcome:
        case = self.world.case(target.situation) if target.situation else None
        prefix = self._prefix(target, case)
        baseline = {
            (f"{prefix}-{key}" if prefix else key): value for key, value in target.baseline(self.world, case).items()
        }
        url = build_path(target.rule, {**target.values(self.world, case), **(path or {})})
        body = {**baseline, **(data or {})}
        client = self.world.client(target.user, case)
        label = f"{target.method} {target.rule} [{target.user}] {prefix + ': ' if prefix else ''}{what}"
        try:
            if target.method == "GET":
                response = client.get(url, query_string=body)
            else:
                response = client.post(url, data=body)
            outcome = Outcome(label, response.status_code, None if response.status_code < 400 else _reasons(response))
        except Exception as error:  # TESTING propagates exceptions: a 500 in production
            outcome = Outcome(label, None, f"{type(error).__name__}: {str(error)[:300]}")
        if record:
            self.outcomes.append(outcome)
        return outcome


def soon(_world=None) -> str:
    return (utcnow() + timedelta(days=3)).date().isoformat()


TEXT = "Checked with the customer."


class World:
    """Users, their signed-in clients and cases in each situation, made when first needed; a case a
    request changed is replaced, so every request meets the situation its target names."""

    def __init__(self, app, make_user):
        self.app = app
        self.agent = make_user("agent", "agent@example.com", "Ann Agent")
        self.supervisor = make_user("supervisor", "supervisor@example.com", "Sam Supervisor")
        self.admin = make_user("admin", "admin@example.com", "Ada Admin")
        self.holder = make_user("agent", "holder@example.com", "Hal Holder")  # changes their own account
        self.other = make_user("agent", "other@example.com", "Otto Other")  # edited by the admin
        self.clients, self.cases, self.rows = {}, {}, {}

    def client(self, who, case=None):
        if who is None:
            return self.app.test_client()  # anonymous, and never signed in by an earlier request
        if who not in self.clients:
            self.clients[who] = self.app.test_client()
            if who != "customer":
                assert login(self.clients[who], getattr(self, who).email).status_code == 302
        if who == "customer":
            with self.clients[who].session_transaction() as session:
                session["portal_ticket_id"] = case.id
        return self.clients[who]

    def case(self, situation) -> Ticket:
        known = self.cases.get(situation)
        if known is not None:
            db.session.expire_all()
            current = db.session.get(Ticket, known[0].id)
            if (current.version, current.status) == known[1]:
                return current
        ticket = SITUATIONS[situation](self)
        self.cases[situation] = (ticket, (ticket.version, ticket.status))
        return ticket

    def row(self, name, make):
        """A row some pages act on (a preventive action, a score…), made once."""
        if name not in self.rows:
            self.rows[name] = make(self)
            db.session.commit()
        return self.rows[name]


def case_of(world, name, email, phone):
    """A case of a customer of their own (open_case's customers share one phone number)."""
    customer = services.find_or_create_customer(name, email, phone)
    ticket = services.take_complaint(
        world.agent, customer=customer, subject="Late delivery", description=TEXT, channel="phone"
    )
    db.session.commit()
    return ticket


def _reviewed(world):
    ticket = to_step(open_case(world.agent), world.agent, "review")
    services.record_review(ticket, world.agent, version=ticket.version, summary=TEXT, lesson=TEXT)
    db.session.commit()
    return ticket


def _closed(world):
    ticket = _reviewed(world)
    services.approve_review(ticket, world.supervisor, version=ticket.version)
    db.session.commit()
    return ticket


def _proposed(world, amount):
    ticket = to_step(open_case(world.agent), world.agent, "resolve")
    propose(ticket, world.agent, amount=amount)
    return ticket


def _accepted(world):
    ticket = _proposed(world, 50)
    services.record_customer_answer(ticket, world.agent, version=ticket.version, accepted=True)
    db.session.commit()
    return ticket


SITUATIONS = {
    "listen": lambda w: open_case(w.agent, listen=False),
    "open": lambda w: open_case(w.agent),
    "other": lambda w: case_of(w, "Han Meimei", "han@example.com", "+86 139 0000 0001"),
    "analyse": lambda w: to_step(open_case(w.agent), w.agent, "analyse"),
    "resolve": lambda w: to_step(open_case(w.agent), w.agent, "resolve"),
    "awaiting_approval": lambda w: _proposed(w, 500),
    "awaiting_customer": lambda w: _proposed(w, 50),
    "accepted": _accepted,
    "follow_up": lambda w: to_step(open_case(w.agent), w.agent, "follow_up"),
    "review": lambda w: to_step(open_case(w.agent), w.agent, "review"),
    "reviewed": _reviewed,
    "closed": _closed,
    "win_back": lambda w: case_of(w, "Zhao Lei", "zhao@example.com", "+86 139 0000 0002"),
}
