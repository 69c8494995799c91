"""What the process tests share: an SMTP sink, a prepared database, scheduler processes."""

import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, func, insert, select

from config import Config
from tests.databases import temporary_postgres_database
from ticketing.auth.models import User
from ticketing.cases.models import Customer, Reminder, Ticket
from ticketing.cases.vocabulary import Channel, Role
from ticketing.clock import utcnow
from ticketing.notify.models import Notification
from ticketing.scheduling.models import Delivery

ROOT = Path(__file__).resolve().parents[2]
MAIL_DOMAIN = "example.test"
MARK = ":proc-"  # in the key of every reminder these tests create


def on_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@contextmanager
def process_database(tmp_path):
    """An empty database the scheduler processes can reach: PostgreSQL on the PostgreSQL run, else SQLite."""
    if on_postgres():
        with temporary_postgres_database(os.environ["TEST_DATABASE_URL"], "ticketing_proc") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'scheduler.sqlite'}"


class MailSink:
    """The SMTP server's handler: counts every accepted message by its Message-ID.

    `kill_on_accept(*pids)` SIGKILLs those processes once, when the next message has been
    received but before the server's "250" reaches the sender: a crash between the SMTP
    server accepting a message and the dispatcher's commit. Addresses in `refused` are
    answered 550 at RCPT, as a mailbox that does not exist is, and counted.
    """

    def __init__(self, refused: frozenset[str] = frozenset()):
        self.received: Counter = Counter()
        self.refused = refused
        self.refusals: Counter = Counter()  # address -> how many times it was offered a message
        self.killed_at: list[str] = []  # Message-IDs accepted just before kill_on_accept struck
        self._kill_pids: tuple[int, ...] = ()
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            with self._lock:
                self.refusals[address] += 1
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message_id = email.message_from_bytes(envelope.content)["Message-ID"]
        with self._lock:
            self.received[message_id] += 1
            pids, self._kill_pids = self._kill_pids, ()
            if pids:
                self.killed_at.append(message_id)
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
        return "250 Message accepted for delivery"

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.received.values())

    def kill_on_accept(self, *pids: int) -> None:
        with self._lock:
            self._kill_pids = pids


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def mail_sink(refused: frozenset[str] = frozenset()):
    """A real SMTP server on 127.0.0.1; yields (sink, port)."""
    sink = MailSink(refused)
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


def migrate(url: str) -> None:
    """The schema as production gets it: `flask db upgrade`."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


REFUSING = f"staff1@{MAIL_DOMAIN}"  # a supervisor whose mailbox the server refuses (seed with refusing=True)


def seed_reminders(
    url: str, digests: int, surveys: int, staff: int = 3, warnings: int = 0, refusing: bool = False
) -> dict[str, int]:
    """Due reminders for `staff` users (daily digests), one customer (surveys) and, with
    `warnings`, early warnings for every supervisor (staff 0 and 1 are supervisors).

    Returns every Message-ID the reminders must be sent with -> the reminder's id; with
    `refusing`, the mailbox REFUSING will refuse its messages, which are left out.
    """
    now = utcnow()
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(User),
                [
                    dict(
                        email=f"staff{n}@{MAIL_DOMAIN}",
                        name=f"Staff {n}",
                        password_hash="!",
                        role=Role.SUPERVISOR if n < 2 else Role.AGENT,
                    )
                    for n in range(staff)
                ],
            )
            users = list(conn.scalars(select(User.id).order_by(User.id)))
            refused = {users[1]} if refusing else set()  # only the early warnings go to the refusing mailbox
            owners = [user for user in users if user not in refused]
            customer = conn.execute(
                insert(Customer).values(name="Li Lei", email=f"li.lei@{MAIL_DOMAIN}", version=1).returning(Customer.id)
            ).scalar_one()
            ticket = conn.execute(
                insert(Ticket)
                .values(
                    reference="C-2026-000001",
                    customer_id=customer,
                    subject="Leaking kettle",
                    description="It leaks.",
                    channel=Channel.PHONE,
                    response_due_at=now,
                    resolution_due_at=now,
                    version=1,
                )
                .returning(Ticket.id)
            ).scalar_one()
            due = now - timedelta(minutes=1)
            rows = [
                dict(
                    key=f"daily_digest:{owners[n % len(owners)]}{MARK}{n}",
                    kind="daily_digest",
                    audience="user",
                    user_id=owners[n % len(owners)],
                    ticket_id=None,
                )
                for n in range(digests)
            ]
            rows += [
                dict(
                    key=f"satisfaction_survey:{ticket}{MARK}{n}",
                    kind="satisfaction_survey",
                    audience="customer",
                    ticket_id=ticket,
                    user_id=None,
                )
                for n in range(surveys)
            ]
            rows += [
                dict(
                    key=f"early_warning{MARK}{n}",
                    kind="early_warning",
                    audience="supervisors",
                    user_id=None,
                    ticket_id=None,
                    details={"warning_kind": "product", "value": f"Kettle {n}", "count": 9, "week": "2026-11-23"},
                )
                for n in range(warnings)
            ]
            conn.execute(
                insert(Reminder), [dict(row, due_at=due, run_at=due, status="pending", attempts=0) for row in rows]
            )
            seeded = conn.execute(
                select(Reminder.id, Reminder.user_id, Reminder.audience).where(Reminder.key.contains(MARK))
            ).all()
    finally:
        engine.dispose()
    supervisors = users[:2]
    expected = {}
    for rid, uid, audience in seeded:
        readers = [f"user-{u}" for u in supervisors if u not in refused] if audience == "supervisors" else None
        for reader in readers or [f"user-{uid}" if uid else "customer"]:
            expected[f"<reminder-{rid}-{reader}@{MAIL_DOMAIN}>"] = rid
    return expected


def _quiet_digest_hour() -> int:
    """An hour far from now, so the daily-digest cron job never adds reminders during a test."""
    zone = ZoneInfo(Config.BABEL_DEFAULT_TIMEZONE)
    return (datetime.now(zone).hour + 12) % 24


def start_scheduler(url: str, smtp_port: int, log: Path, *command: str, **settings) -> subprocess.Popen:
    """`flask --app wsgi scheduler run` (or another command) as a process of its own."""
    env = (
        os.environ
        | {
            "DATABASE_URL": url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp_port),
            "SMTP_TIMEOUT": "5",
            "MAIL_FROM": f"service-desk@{MAIL_DOMAIN}",
            "DIGEST_HOUR": str(_quiet_digest_hour()),
            "DISPATCH_INTERVAL_SECONDS": "1",
            "DISPATCH_LEASE_SECONDS": "2",
        }
        | {name: str(value) for name, value in settings.items()}
    )
    with open(log, "ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", *(command or ("scheduler", "run"))],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen) -> None:
    """SIGKILL the process if it still runs, and reap it."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class Inspector:
    """Reads what the scheduler processes wrote, from the test process."""

    def __init__(self, url: str):
        self.engine = create_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def _ours(self, query):
        return query.where(Reminder.key.contains(MARK))

    def unsent(self) -> int:
        """Reminders not handed out yet, and messages still waiting to be sent or retried."""
        with self.engine.connect() as conn:
            reminders = conn.scalar(self._ours(select(func.count(Reminder.id)).where(Reminder.status != "sent")))
            messages = conn.scalar(
                self._ours(
                    select(func.count(Delivery.id))
                    .join(Reminder, Reminder.id == Delivery.reminder_id)
                    .where(Delivery.status.in_(("pending", "sending")))
                )
            )
            return reminders + messages

    def deliveries(self) -> Counter:
        """(address, status, attempts) -> how many deliveries."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                self._ours(
                    select(Delivery.address, Delivery.status, Delivery.attempts, func.count(Delivery.id))
                    .join(Reminder, Reminder.id == Delivery.reminder_id)
                    .group_by(Delivery.address, Delivery.status, Delivery.attempts)
                )
            ).all()
            return Counter({(address, status, attempts): n for address, status, attempts, n in rows})

    def statuses(self) -> Counter:
        with self.engine.connect() as conn:
            return Counter(
                dict(
                    conn.execute(
                        self._ours(select(Reminder.status, func.count(Reminder.id)).group_by(Reminder.status))
                    ).all()
                )
            )

    def claimers(self) -> Counter:
        """Process ("<host>:<pid>") -> how many of the messages it claimed last."""
        with self.engine.connect() as conn:
            return Counter(
                token.rsplit(":", 1)[0]  # claim tokens are "<host>:<pid>:<random>"
                for token in conn.scalars(
                    self._ours(select(Delivery.claimed_by).join(Reminder, Reminder.id == Delivery.reminder_id))
                )
            )

    def notifications(self) -> Counter:
        """(reminder id, user id) -> how many in-app notifications it has."""
        with self.engine.connect() as conn:
            return Counter(
                {
                    (rid, uid): n
                    for rid, uid, n in conn.execute(
                        select(Notification.reminder_id, Notification.user_id, func.count(Notification.id)).group_by(
                            Notification.reminder_id, Notification.user_id
                        )
                    )
                }
            )

    def expected_notifications(self) -> set[tuple[int, int]]:
        """Every staff reminder's in-app notice: the digests' owners, and each supervisor for a warning."""
        with self.engine.connect() as conn:
            supervisors = list(conn.scalars(select(User.id).where(User.role == Role.SUPERVISOR)))
            expected = set()
            for rid, uid, audience in conn.execute(
                self._ours(
                    select(Reminder.id, Reminder.user_id, Reminder.audience).where(Reminder.audience != "customer")
                )
            ):
                expected |= {(rid, u) for u in supervisors} if audience == "supervisors" else {(rid, uid)}
            return expected


def log_tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return "(no output)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def report(capsys, text: str) -> None:
    """Show a figure in the test run's output even without -s."""
    with capsys.disabled():
        print(f"\n{text}")
