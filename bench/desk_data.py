"""The desk benchmark's database: three years of cases with everything the desk stores for them.

    .venv/bin/python bench/desk_data.py --tickets 10000 --dir /tmp/ticketing-bench --rebuild

Built once per size (kept in --dir) with `flask db upgrade`, then batched Core inserts, one
transaction per chunk of cases:

- the cases and their step records from the dashboard benchmark's generator (bench/dashboard.py),
  with references, subjects and descriptions, and customers (names, phones, e-mails) from the search
  benchmark's (bench/search.py); closed cases' reviews carry the supervisor's approval, cancelled
  ones their closing time, a turned-down proposal the customer's reason, and some cases internal notes;
- the record log: one event for each action the case went through (create, assign, listen, message,
  apologise, analyse, propose, customer_accepts / customer_rejects, approve, carry_out, follow_up,
  rate, note, record_review, approve_review, cancel), `changes` shaped as the services write them,
  sealed into each case's chain exactly as ticketing/cases/chain.py does (seq, prev_hash, the
  snapshots of the records the action wrote, key_id and the HMAC of ticketing/sealing.py with the
  bench app's audit key), so `flask audit verify` finds it intact;
- the reminders `sync_reminders` and the one-off notices leave over a case's life — deadline warnings
  and breaches, promises, follow-ups, reviews, approvals, the customer's notices — sent when they fell
  due while still needed (an in-app notification for each staff recipient; customer notices skipped,
  as the dispatcher does with SMTP off), cancelled when the case moved on first, pending for open cases;
- the private link shown to a customer who complained on the web, and the search documents
  (`documents.rebuild`, as `flask search rebuild` does).
"""

import argparse
import hashlib
import json
import random
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock_time
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, func, insert, select, text

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import dashboard as history  # noqa: E402  (the dashboard benchmark's case history)
import search as wording  # noqa: E402  (the search benchmark's customers and complaint words)
from desk_server import bench_config  # noqa: E402

from config import Config  # noqa: E402
from ticketing import create_app, sealing  # noqa: E402
from ticketing.auth.models import User  # noqa: E402
from ticketing.auth.services import create_user  # noqa: E402
from ticketing.auth.tokens import create_token  # noqa: E402
from ticketing.cases import chain  # noqa: E402
from ticketing.cases.audit import Event  # noqa: E402
from ticketing.cases.models import Customer, Note, ReferenceCounter, Reminder, Ticket  # noqa: E402
from ticketing.cases.portal_access import PortalAccess  # noqa: E402
from ticketing.cases.records import Resolution, ReviewRecord  # noqa: E402
from ticketing.cases.search import documents  # noqa: E402
from ticketing.extensions import db  # noqa: E402
from ticketing.notify.models import Notification  # noqa: E402

AGENT = "bench-agent@example.com"  # signs in to the desk
API_USER = "bench-api@example.com"  # the API token's owner (an intake system)
SUPERVISOR, PASSWORD = history.SUPERVISOR, history.PASSWORD
ZONE = ZoneInfo(Config.BABEL_DEFAULT_TIMEZONE)
AT_RISK = 0.75  # desk default: warn when 75% of the time is used
FOLLOW_UP_DELAY, REVIEW_DELAY, NOTICE_LEAD = timedelta(hours=48), timedelta(hours=24), timedelta(hours=4)
SURVEY_REMINDER = timedelta(days=3)
SCHEDULER = "bench-host:4242"
NOTES = (
    "Called the warehouse: the parcel left on time, the courier lost it.",
    "客户情绪激动，已安抚，约定明天回电。",
    "Asked the service centre for the repair log.",
    "已向财务确认退款流程，三个工作日内到账。",
)
REVIEW_COMMENTS = ("Handled on time, well recorded: closing.", "处理及时，记录完整，同意结案。")
REJECTIONS = ("Wants a replacement, not a repair.", "补偿太少，不能接受。")
CANCEL_REASONS = ("The customer only asked about the returns policy.", "客户来电只是咨询，不属于投诉，已解答。")


def bench_app(path: Path, **settings):
    return create_app(bench_config(path, **settings))


def paths(folder: Path, tickets: int) -> tuple[Path, Path]:
    """(the database, the file holding the API token made for it)."""
    return folder / f"desk-{tickets}.sqlite", folder / f"desk-{tickets}.token"


class Stored:
    """A row read back with Core, shaped for chain.snapshot (which reads `__table__` and attributes)."""

    def __init__(self, table, mapping):
        self.__table__ = table
        self.__dict__.update(mapping)

    def __getattr__(self, name):  # a column the row leaves out: NULL
        return None


class Log:
    """The events, reminders, notifications and links of one chunk of cases."""

    def __init__(self, people: dict, supervisors: list, now: datetime, rng: random.Random, reminder_id: int):
        self.people, self.supervisors, self.now, self.rng = people, supervisors, now, rng
        self.events, self.reminders, self.notifications, self.links = [], [], [], []
        self.reminder_id = reminder_id

    # --- the record log -------------------------------------------------------------------------

    def case(self, ticket: dict, customer: dict, records: dict, lines: dict) -> None:
        """Every event of one case, in order, linked and sealed."""
        chain_of = []

        def event(at, actor_id, action, changes, sealed=None):
            chain_of.append((at, actor_id, action, changes, sealed or None))

        agent, tid = ticket["assignee_id"], ticket["id"]
        opened = ticket["created_at"]
        web = ticket["channel"] == "web"
        create = {
            "reference": [None, ticket["reference"]],
            "customer": [None, customer["name"]],
            "subject": [None, ticket["subject"]],
            "channel": [None, ticket["channel"]],
            "priority": [None, ticket["priority"]],
            "category": [None, ticket["category"]],
            "product": [None, ticket["product"]],
        }
        if web:  # the portal: the customer files it, a supervisor hands it out
            event(opened, None, "create", create)
            event(opened + timedelta(minutes=2), self.supervisors[0], "assign", {"assignee": [None, self.email(agent)]})
        else:
            event(opened, agent, "create", {**create, "assignee": [None, self.email(agent)]})
        responded = False
        for key, snap in records.get("listen_records", []):
            event(
                _at(snap),
                agent,
                "listen",
                _fields(snap, "occurred_at customer_words restatement restatement_confirmed expectation emotion")
                | _fields(snap, "dissatisfaction")
                | {"step": ["listen", "apologise"]},
                {key: snap},
            )
        for key, snap in records.get("messages", []):
            event(
                _at(snap),
                agent,
                "message",
                {"body": [None, snap["body"]], "responded_at": [None, snap["created_at"]]},
                {key: snap},
            )
            responded = True
        for key, snap in records.get("apology_records", []):
            changes = _fields(snap, "method wording")
            if not responded:
                changes["responded_at"] = [None, snap["created_at"]]
            event(_at(snap), agent, "apologise", changes | {"step": ["apologise", "analyse"]}, {key: snap})
        for key, snap in records.get("analysis_records", []):
            changes = _fields(snap, "root_cause detail product legitimacy responsibility motive")
            event(
                _at(snap),
                agent,
                "analyse",
                changes | {"analysed_at": [None, snap["created_at"]], "step": ["analyse", "resolve"]},
                {key: snap},
            )
        carried = self._resolutions(ticket, records.get("resolutions", []), lines, event)
        for key, snap in records.get("follow_up_records", []):
            changes = _fields(snap, "method outcome satisfaction retention churn_type notes")
            due = (carried or _at(snap)) + FOLLOW_UP_DELAY
            event(
                _at(snap),
                agent,
                "follow_up",
                changes | {"follow_up_due_at": [due.isoformat(), None], "step": ["follow_up", "review"]},
                {key: snap},
            )
        for key, snap in records.get("survey_responses", []):
            event(_at(snap), None, "rate", _fields(snap, "satisfaction recommend buy_again comment"), {key: snap})
        for key, snap in records.get("notes", []):
            event(_at(snap), snap["author_id"], "note", {"body": [None, snap["body"]]}, {key: snap})
        for key, snap in records.get("review_records", []):
            recorded = _time(snap["created_at"])
            before = dict(snap, decision=None, decided_by_id=None, decided_at=None, comments=None, checklist=None)
            changes = _fields(snap, "summary lesson preventive_action")
            changes |= {
                "review_recorded_at": [None, recorded.isoformat()],
                "review_due_at": [None, (recorded + REVIEW_DELAY).isoformat()],
            }
            event(recorded, agent, "record_review", changes, {key: before})
            if snap["decision"] == "approved":
                event(
                    ticket["closed_at"],
                    snap["decided_by_id"],
                    "approve_review",
                    {
                        "decision": [None, "approved"],
                        "status": ["open", "closed"],
                        "closed_at": [None, ticket["closed_at"].isoformat()],
                        "review_due_at": [(recorded + REVIEW_DELAY).isoformat(), None],
                    },
                    {key: snap},
                )
        if ticket["status"] == "cancelled":
            event(
                ticket["closed_at"],
                agent,
                "cancel",
                {
                    "reason": [None, self.rng.choice(CANCEL_REASONS)],
                    "status": ["open", "cancelled"],
                    "closed_at": [None, ticket["closed_at"].isoformat()],
                },
            )
        chain_of.sort(key=lambda item: item[0])  # stable: same-moment events keep their order
        previous, seq, last_at = None, 0, opened
        for at, actor_id, action, changes, sealed in chain_of:
            seq += 1
            last_at = max(at, last_at)
            row = SimpleNamespace(
                prev_hash=previous,
                ticket_id=tid,
                seq=seq,
                actor_id=actor_id,
                actor_name=self.people[actor_id]["name"] if actor_id else "customer",
                action=action,
                changes=changes,
                created_at=last_at,
                records=sealed,
            )
            row.key_id, row.hash = sealing.seal(chain.content(row))
            self.events.append(vars(row))
            previous = row.hash
        ticket["version"] = seq + 1

    def _resolutions(self, ticket: dict, resolutions: list, lines: dict, event) -> None:
        agent, state, done = ticket["assignee_id"], "none", None
        for key, snap in resolutions:
            proposed = _time(snap["created_at"])
            own_lines = lines.get(int(key.partition(":")[2]), [])
            final = snap["state"]
            first = "awaiting_approval" if final == "awaiting_approval" else "awaiting_customer"
            total = sum(float(line["amount"] or 0) for _k, line in own_lines)
            changes = _fields(snap, "method promised_date estimated_loss currency")
            changes |= {
                "compensation_total": [None, str(round(total))],
                "compensation": [None, [f"{line['type']} {line['amount'] or ''}".strip() for _k, line in own_lines]],
                "resolution_state": [state, first],
            }
            if first == "awaiting_customer":
                changes["clock_paused_at"] = [None, proposed.isoformat()]
            proposal = dict(snap, state=first, carried_out_at=None, carried_out_note=None, customer_reason=None)
            event(proposed, agent, "propose", changes, {key: proposal} | dict(own_lines))
            if first == "awaiting_approval":
                self.notice("approval_waiting", ticket, proposed, ("supervisors", None))
            if final == "rejected":
                answered = proposed + timedelta(hours=self.rng.expovariate(1 / 12))
                event(
                    answered,
                    agent,
                    "customer_rejects",
                    {
                        "reason": [None, snap["customer_reason"]],
                        "resolution_state": ["awaiting_customer", "rejected"],
                        "promised_date": [snap["promised_date"], None],
                        "clock_paused_at": [proposed.isoformat(), None],
                    },
                    {key: snap},
                )
                state = "rejected"
                continue
            if final in ("accepted", "carried_out"):
                done = _time(snap["carried_out_at"]) if snap["carried_out_at"] else None
                answered = proposed + ((done - proposed) * 0.3 if done else timedelta(hours=self.rng.uniform(1, 20)))
                accepted = dict(snap, state="accepted", carried_out_at=None, carried_out_note=None)
                changes = {
                    "resolution_state": ["awaiting_customer", "accepted"],
                    "clock_paused_at": [proposed.isoformat(), None],
                }
                event(answered, agent, "customer_accepts", changes, {key: snap if final == "accepted" else accepted})
                if done:
                    changes = {
                        "note": [None, snap["carried_out_note"]],
                        "resolution_state": ["accepted", "carried_out"],
                        "follow_up_due_at": [None, (done + FOLLOW_UP_DELAY).isoformat()],
                        "step": ["resolve", "follow_up"],
                    }
                    event(done, agent, "carry_out", changes, {key: snap})
            state = final
        return done

    def email(self, user_id: int) -> str:
        return self.people[user_id]["email"]

    # --- reminders -------------------------------------------------------------------------------

    def reminders_of(self, ticket: dict, customer: dict, records: dict) -> None:
        """What sync_reminders and the one-off notices left over the case's life."""
        tid, now, rng = ticket["id"], self.now, self.rng
        owner = ("assignee", ticket["assignee_id"])
        opened = ticket["created_at"]
        ended = ticket["closed_at"]  # closed or cancelled: every state reminder stops
        emailed = bool(customer["email"])
        response_hours, resolution_hours = history.HOURS[ticket["priority"]]
        responded = ticket["responded_at"]
        offered = None
        resolutions = records.get("resolutions", [])
        if ticket["resolution_state"] in ("awaiting_customer", "accepted", "carried_out") and resolutions:
            offered = _time(resolutions[-1][1]["created_at"])
        self.warning(tid, "response", ticket["response_due_at"], response_hours, owner, opened, responded or ended)
        self.warning(tid, "resolution", ticket["resolution_due_at"], resolution_hours, owner, opened, offered or ended)
        if emailed:
            self.notice(
                "portal_link", ticket, opened, ("customer", None), key=f"portal_link:{tid}:{rng.getrandbits(128):032x}"
            )
        if offered is not None:
            snap = resolutions[-1][1]
            carried = _time(snap["carried_out_at"]) if snap["carried_out_at"] else None
            if snap["promised_date"]:
                promised = datetime.combine(
                    datetime.fromisoformat(snap["promised_date"]).date(), clock_time(23, 59), ZONE
                )
                promised = promised.astimezone(offered.tzinfo)
                stop = carried or ended
                if promised - timedelta(hours=24) > offered:
                    self.state("promise_approaching", tid, promised - timedelta(hours=24), owner, offered, stop)
                self.state("promise_passed", tid, promised, owner, offered, stop)
            if emailed:
                self.notice("proposal_waiting", ticket, offered, ("customer", None))
            if carried is not None:
                follow_ups = records.get("follow_up_records", [])
                followed = _time(follow_ups[0][1]["created_at"]) if follow_ups else None
                due = carried + FOLLOW_UP_DELAY
                self.state("follow_up_due", tid, due, owner, carried, followed or ended)
                if emailed:
                    self.notice("remedy_done", ticket, carried, ("customer", None))
                    self.state(
                        "follow_up_coming", tid, due - NOTICE_LEAD, ("customer", None), carried, followed or ended
                    )
                if followed is not None and emailed:
                    fid = follow_ups[0][0].partition(":")[2]
                    self.notice(
                        "satisfaction_survey",
                        ticket,
                        followed,
                        ("customer", None),
                        key=f"satisfaction_survey:{tid}:follow_up:{fid}",
                    )
                    rated = records.get("survey_responses")
                    self.state(
                        "survey_reminder",
                        tid,
                        followed + SURVEY_REMINDER,
                        ("customer", None),
                        followed,
                        _time(rated[0][1]["created_at"]) if rated else None,
                        key=f"survey_reminder:{tid}:follow_up:{fid}",
                        details={"follow_up_id": int(fid)},
                    )
        for _key, snap in records.get("review_records", []):
            recorded = _time(snap["created_at"])
            self.state("review_waiting", tid, recorded + REVIEW_DELAY, ("supervisors", None), recorded, ended)
        if ended is not None and ticket["status"] == "closed" and emailed:
            self.notice("case_closed", ticket, ended, ("customer", None))
        if ticket["channel"] == "web":  # the link shown after submitting the complaint
            used = opened + timedelta(days=rng.uniform(0, 10)) if rng.random() < 0.6 else None
            self.links.append(
                dict(
                    ticket_id=tid,
                    token_hash=hashlib.sha256(rng.getrandbits(192).to_bytes(24, "big")).hexdigest(),
                    created_at=opened,
                    last_used_at=min(used, now) if used else None,
                    revoked_at=None,
                )
            )

    def warning(self, tid, name, deadline, hours, owner, made, stop) -> None:
        """A deadline's warning to the owner and its breach to the supervisors; a warning whose deadline
        had already passed when it was made is not made (sync_reminders)."""
        warning = deadline - timedelta(hours=hours * (1 - AT_RISK))
        if deadline > made:
            self.state(f"{name}_at_risk", tid, warning, owner, made, stop)
        self.state(f"{name}_breached", tid, deadline, ("supervisors", None), made, stop)

    def state(self, kind, tid, due, audience, made, stop, key=None, details=None) -> None:
        """A reminder made at `made` and needed until `stop` (None: still needed): sent when it fell due
        before that, else cancelled, or pending while still needed."""
        who, user_id = audience
        key = key or f"{kind}:{tid}:{int(due.timestamp())}:{user_id or who}"
        until = min(stop, self.now) if stop is not None else self.now
        if due <= until:
            status = "sent"
        elif stop is not None and stop <= self.now:
            status = "cancelled"
        else:
            status = "pending"
        self.add(key, kind, tid, audience, due, made, status, details)

    def notice(self, kind, ticket, at, audience, key=None) -> None:
        """A one-off notice due at once: sent at the next pass (a customer's is skipped: SMTP is off)."""
        key = key or f"{kind}:{ticket['id']}:{ticket['version']}:{self.rng.getrandbits(32):08x}"
        self.add(key, kind, ticket["id"], audience, at, at, "sent" if at <= self.now else "pending", None)

    def add(self, key, kind, tid, audience, due, made, status, details) -> None:
        who, user_id = audience
        self.reminder_id += 1
        row = dict(
            id=self.reminder_id,
            key=key,
            kind=kind,
            ticket_id=tid,
            user_id=user_id,
            audience=who,
            due_at=due,
            run_at=due,
            status=status,
            attempts=0,
            claimed_by=None,
            claimed_at=None,
            sent_at=None,
            last_error=None,
            created_at=min(made, due),
            details=details,
        )
        if status == "sent" and who == "customer":
            row["status"] = "skipped"  # no e-mail channel: nobody to hand it to
        elif status == "sent":
            sent = due + timedelta(seconds=self.rng.uniform(1, 15))
            row.update(attempts=1, claimed_by=SCHEDULER, claimed_at=sent, sent_at=sent)
            for user in [user_id] if user_id else self.supervisors:
                read = sent + timedelta(hours=self.rng.expovariate(1 / 4))
                self.notifications.append(
                    dict(
                        user_id=user,
                        reminder_id=self.reminder_id,
                        ticket_id=tid,
                        kind=kind,
                        details={"reference": self.references[tid], "due_at": due.isoformat()},
                        created_at=sent,
                        read_at=read if read < self.now else None,
                    )
                )
        self.reminders.append(row)

    def insert(self, conn) -> None:
        for table, rows in (
            (Event.__table__, self.events),
            (Reminder.__table__, self.reminders),
            (Notification.__table__, self.notifications),
            (PortalAccess.__table__, self.links),
        ):
            raw_insert(conn, table, rows)


def complete(table, row: dict) -> dict:
    """`row` with the Python-side defaults of the columns it leaves out, as Core's insert would fill them."""
    for column in table.columns:
        if column.name not in row and column.default is not None and not column.primary_key:
            default = column.default
            row[column.name] = default.arg if default.is_scalar else default.arg(None)
    return row


def raw_insert(conn, table, rows: list[dict]) -> None:
    """An executemany straight to the SQLite driver, values in the form SQLAlchemy's types store them
    (UTCDateTime: naive UTC with microseconds; JSON: json.dumps, None as null; enums by value): Core's
    per-row parameter processing took most of the build's time. Rows are complete()d first."""
    if not rows:
        return
    names = list(complete(table, dict(rows[0])))
    convert = [_converter(table.c[name].type) for name in names]
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    values = []
    for row in rows:
        if len(row) != len(names):
            row = complete(table, row)
        values.append(tuple([to(row[name]) for to, name in zip(convert, names)]))
    conn.exec_driver_sql(statement, values)


def _converter(column_type):
    if isinstance(column_type, JSON):
        return _json
    return _stored


def _json(value) -> str:
    return "null" if value is None else json.dumps(value)


_PLAIN = frozenset({str, int, float, type(None)})


def _stored(value):
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is datetime:
        if value.tzinfo is not timezone.utc:
            value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None).isoformat(" ", "microseconds")
    if kind is bool:
        return int(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _at(snap: dict) -> datetime:
    return _time(snap["created_at"])


def _fields(snap: dict, names: str) -> dict:
    """(None, value) for each named field of a record, as an action's changes list a new record."""
    return {name: [None, snap[name]] for name in names.split() if name in snap}


def _patch(rows, ticket: dict, supervisors: list, rng: random.Random) -> None:
    """What the desk stores beyond the dashboard's generator, for the case just generated."""
    tid = ticket["id"]
    ticket["created_by_id"] = None if ticket["channel"] == "web" else ticket["assignee_id"]
    if ticket["status"] == "cancelled":
        ticket["closed_at"] = ticket["updated_at"]
    closed = ticket["status"] == "closed"
    for review in rows.tables[ReviewRecord][-1:]:
        if review["ticket_id"] == tid:  # a closed case's review was approved by a supervisor
            review.update(
                decision="approved" if closed else None,
                decided_by_id=rng.choice(supervisors) if closed else None,
                decided_at=ticket["closed_at"] if closed else None,
                comments=rng.choice(REVIEW_COMMENTS) if closed else None,
                checklist={} if closed else None,
            )
    for resolution in rows.tables[Resolution][-2:]:
        if resolution["ticket_id"] == tid:
            rejected = resolution["state"] == "rejected"
            resolution.setdefault("customer_reason", rng.choice(REJECTIONS) if rejected else None)
            resolution.setdefault("carried_out_note", "Done as agreed." if resolution["carried_out_at"] else None)
    if rng.random() < 0.3:
        written = ticket["created_at"] + (ticket["updated_at"] - ticket["created_at"]) * rng.random()
        rows.tables[Note].append(
            dict(ticket_id=tid, author_id=ticket["assignee_id"], body=rng.choice(NOTES), created_at=written)
        )


def _snapshots(rows, ids: dict) -> tuple[dict, dict]:
    """The sealed records of the chunk's cases, snapshotted as chain.snapshot takes them (every column
    but the id, defaults filled in, in the form the database gives back), each given its id:
    ({ticket id: {table: [(key, snapshot)]}}, {resolution id: [(key, line snapshot)]})."""
    records: dict = defaultdict(lambda: defaultdict(list))
    lines: dict = defaultdict(list)
    for model, table_rows in rows.tables.items():
        sealed = chain.SEALED.get(model.__tablename__)
        if sealed is None:
            continue
        table = model.__table__
        for row in table_rows:
            if "id" not in row:
                ids[model] = ids.get(model, 0) + 1
                row["id"] = ids[model]
            snap = chain.snapshot(Stored(table, complete(table, row)))
            key = f"{sealed.table}:{row['id']}"
            if sealed.parent is None:
                records[row["ticket_id"]][sealed.table].append((key, snap))
            else:
                lines[row["resolution_id"]].append((key, snap))
    return records, lines


def build(path: Path, tickets: int, token_file: Path) -> dict:
    """The database at `path` with `tickets` cases; returns what was written and how long it took."""
    from flask_migrate import upgrade

    started = time.perf_counter()
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = bench_app(path)
    rng = random.Random(18)
    with app.app_context():
        upgrade()
        create_user(email=SUPERVISOR, password=PASSWORD, role="supervisor", name="Bench Supervisor")
        create_user(email=AGENT, password=PASSWORD, role="agent", name="Bench Agent")
        api_user = create_user(email=API_USER, password=PASSWORD, role="agent", name="Bench Intake")
        db.session.flush()
        _row, secret = create_token(api_user, "desk benchmark")  # as `flask create-token` does
        db.session.commit()
        token_file.write_text(secret + "\n", encoding="utf-8")
        token_file.chmod(0o600)
        with db.engine.connect() as conn:
            conn.execute(text("PRAGMA synchronous=OFF"))  # the build only: the server runs the app's own settings
            staff = [
                dict(email=f"agent{n}@example.com", name=f"Agent {n}", role="agent") for n in range(history.AGENTS)
            ]
            staff += [
                dict(email=f"supervisor{n}@example.com", name=f"Supervisor {n}", role="supervisor") for n in (1, 2)
            ]
            conn.execute(insert(User), [dict(row, password_hash="!") for row in staff])
            people = {
                row.id: dict(name=row.name, email=row.email)
                for row in conn.execute(select(User.id, User.name, User.email))
            }
            # The agent who signs in holds cases like any other, so "my cases" is a real queue.
            agents = list(
                conn.scalars(select(User.id).where(User.role == "agent", User.email != API_USER).order_by(User.id))
            )
            supervisors = list(conn.scalars(select(User.id).where(User.role == "supervisor").order_by(User.id)))
            customers = max(tickets * 6 // 10, 1)
            known = {}
            for start in range(1, customers + 1, history.CHUNK * 5):
                rows = [wording._customer(n, rng) for n in range(start, min(start + history.CHUNK * 5, customers + 1))]
                conn.execute(insert(Customer), rows)
                known.update((row["id"], dict(name=row["name"], email=row["email"])) for row in rows)
            conn.execute(
                insert(history.Product),
                [
                    dict(id=n + 1, code=f"product-{n:02d}", name_en=name, name_zh=name, active=True)
                    for n, name in enumerate(history.PRODUCTS)
                ],
            )
            conn.commit()
            now, ids, numbers, reminder_id = history.utcnow(), {}, {}, 0
            counts = defaultdict(int)
            for start in range(0, tickets, history.CHUNK):
                rows = history.Rows(ids)
                rows.tables[Note] = []
                for n in range(start, min(start + history.CHUNK, tickets)):
                    history._ticket(rows, n, tickets, customers, agents, now, rng)
                    ticket = rows.tables[Ticket][-1]
                    year = ticket["created_at"].year
                    numbers[year] = numbers.get(year, 0) + 1
                    ticket["reference"] = f"C-{year}-{numbers[year]:06d}"
                    ticket["subject"], ticket["description"] = wording._words(rng, rng.random() < 0.6)
                    _patch(rows, ticket, supervisors, rng)
                records, lines = _snapshots(rows, ids)
                for model, table_rows in rows.tables.items():
                    raw_insert(conn, model.__table__, table_rows)
                    counts[model.__tablename__] += len(table_rows)
                high = min(start + history.CHUNK, tickets)
                log = Log(people, supervisors, now, rng, reminder_id)
                log.references = {row["id"]: row["reference"] for row in rows.tables[Ticket]}
                for ticket in rows.tables[Ticket]:
                    customer = known[ticket["customer_id"]]
                    log.case(ticket, customer, records[ticket["id"]], lines)
                    log.reminders_of(ticket, customer, records[ticket["id"]])
                log.events.sort(key=lambda row: row["created_at"])  # cases interleave in the log, as they happen
                log.reminders.sort(key=lambda row: row["created_at"])
                id_order = {row["id"]: n for n, row in enumerate(log.reminders, start=reminder_id + 1)}
                for row in log.reminders:
                    row["id"] = id_order[row["id"]]
                for row in log.notifications:
                    row["reminder_id"] = id_order[row["reminder_id"]]
                reminder_id = log.reminder_id
                log.insert(conn)
                conn.commit()
                for name, table_rows in (("events", log.events), ("reminders", log.reminders)):
                    counts[name] += len(table_rows)
                counts["notifications"] += len(log.notifications)
                counts["portal_access"] += len(log.links)
                if (high // history.CHUNK) % 10 == 0 or high == tickets:
                    print(f"  {high:,} cases in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
            conn.execute(insert(ReferenceCounter), [dict(year=year, last=last) for year, last in numbers.items()])
            conn.commit()
            step = _step("search documents", started)
            cases, persons = documents.rebuild(conn)
            conn.commit()
            counts["case documents"], counts["customer documents"] = cases, persons
            derived = _derived_figures()
            if derived is not None:  # the per-case figures Insight reads, where the app keeps them
                step = _step("Insight facts", step)
                derived.rebuild(conn, batch=5000)
                conn.commit()
        retention = _retention()
        if retention is not None:  # what the nightly job has done on a desk that ran these three years
            step = _step("the retention pass", step)
            removed = retention_in_bulk(now)
            counts["reminders removed by retention"] = removed
            counts["reminders"] -= removed
            if hasattr(retention, "refresh_statistics"):  # and the planner's statistics, as each night
                retention.refresh_statistics()
        _step("done", step)
        db.engine.dispose()
    return {"seconds": time.perf_counter() - started, "rows": dict(counts)}


def retention_in_bulk(now: datetime) -> int:
    """What the nightly retention job removes, removed at once: the job's own rule
    (scheduling/retention.removable) picks the rows, the in-app notices keep their text (their link
    cleared), as the job does. The kept rows are copied aside and the table refilled, all sequential
    writes: the job's short batches of random deletes took 40 minutes for the 10M rows of 1M cases
    (an 18 GB file), for a job that on a running desk removes one night's rows at a time."""
    from sqlalchemy import Column, Integer, MetaData, Table

    from ticketing.cases.settings import desk
    from ticketing.scheduling import retention

    cutoff = now - timedelta(days=desk().reminder_retention_days)
    gone = Table("gone", MetaData(), Column("id", Integer, primary_key=True), prefixes=["TEMPORARY"])
    with db.engine.connect() as conn:
        conn.execute(text("PRAGMA foreign_keys=OFF"))  # the table is refilled with every row referred to
        conn.execute(text("PRAGMA synchronous=OFF"))
        gone.create(conn)
        conn.execute(gone.insert().from_select(["id"], select(Reminder.id).where(retention.removable(cutoff))))
        removed = conn.execute(text("SELECT count(*) FROM temp.gone")).scalar()
        conn.execute(
            text("UPDATE notifications SET reminder_id = NULL WHERE reminder_id IN (SELECT id FROM temp.gone)")
        )
        conn.execute(text("CREATE TEMPORARY TABLE kept AS SELECT * FROM reminders WHERE id NOT IN temp.gone"))
        conn.execute(text("DELETE FROM reminders"))
        conn.execute(text("INSERT INTO reminders SELECT * FROM temp.kept"))
        conn.commit()
    return removed


def _step(name: str, since: float) -> float:
    """Say how long the step before took and which one begins; returns the time now."""
    now = time.perf_counter()
    print(f"  {now - since:.0f} s; {name}", file=sys.stderr, flush=True)
    return now


def _retention():
    """ticketing.scheduling.retention when this version of the app removes old reminder rows nightly."""
    try:
        from ticketing.scheduling import retention
    except ImportError:
        return None
    return retention


def _derived_figures():
    """ticketing.cases.facts when this version of the app keeps per-case figures for Insight (written by
    its migration's backfill and by every change; a bulk load writes them once, like `flask insight rebuild`)."""
    try:
        from ticketing.cases import facts
    except ImportError:
        return None
    return facts if hasattr(facts, "rebuild") else None


def verify(path: Path) -> tuple[float, str]:
    """`flask audit verify` on the database: (seconds, what it said)."""
    from click.testing import CliRunner

    from ticketing.cli import audit_verify

    app = bench_app(path)
    started = time.perf_counter()
    with app.app_context():
        result = CliRunner().invoke(audit_verify, [], catch_exceptions=False)
    return time.perf_counter() - started, result.output.strip()


def schema_mark() -> str:
    """A digest of the migrations: a database built by other migrations (a step filled in since, under a
    revision it already records as done) would miss tables, so it is built again."""
    digest = hashlib.sha256()
    for migration in sorted((BENCH.parent / "ticketing/migrations/versions").glob("*.py")):
        digest.update(migration.name.encode() + migration.read_bytes())
    return digest.hexdigest()


def ensure(folder: Path, tickets: int, rebuild: bool, check: bool) -> tuple[Path, Path]:
    """The database for `tickets` cases (built when missing, asked, or made by other migrations), its token file."""
    folder.mkdir(parents=True, exist_ok=True)
    path, token_file = paths(folder, tickets)
    mark_file = path.with_suffix(".schema")
    stale = path.exists() and (not mark_file.exists() or mark_file.read_text().strip() != schema_mark())
    if stale and not rebuild:
        print(f"{path} was built by other migrations than today's: building it again.", flush=True)
    if rebuild or stale or not path.exists() or not token_file.exists():
        print(f"Building {path} ({tickets:,} cases) …", flush=True)
        built = build(path, tickets, token_file)
        mark_file.write_text(schema_mark() + "\n")
        rows = ", ".join(f"{name} {count:,}" for name, count in sorted(built["rows"].items()))
        print(f"  built in {built['seconds']:.0f} s: {rows}", flush=True)
        per_case = {name: built["rows"].get(name, 0) / tickets for name in ("events", "reminders", "notifications")}
        print("  per case: " + ", ".join(f"{name} {value:.1f}" for name, value in per_case.items()), flush=True)
        if check:
            seconds, said = verify(path)
            print(f"  flask audit verify ({seconds:.0f} s): {said}", flush=True)
        else:
            print("  flask audit verify: skipped (--no-verify)", flush=True)
    return path, token_file


def size_report(path: Path) -> list[tuple[str, int]]:
    """(table, bytes) of the database's largest tables and indexes, from SQLite's dbstat when built in."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        try:
            rows = conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
        except sqlite3.OperationalError:
            return []
    return rows


def count_tickets(path: Path) -> int:
    app = bench_app(path)
    with app.app_context():
        return db.session.scalar(select(func.count(Ticket.id)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-verify", action="store_true", help="skip `flask audit verify` after building")
    args = parser.parse_args()
    ensure(args.dir, args.tickets, args.rebuild, not args.no_verify)


if __name__ == "__main__":
    main()
