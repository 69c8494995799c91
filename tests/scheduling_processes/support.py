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

    `kill_on_accept(pid)` SIGKILLs that process once, when the next message has been
    received but before the server's "250" reaches the sender: a crash between the SMTP
    server accepting a message and the dispatcher's commit.
    """

    def __init__(self):
        self.received: Counter = Counter()
        self.killed_at: list[str] = []  # Message-IDs accepted just before kill_on_accept struck
        self._kill_pid: int | None = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message_id = email.message_from_bytes(envelope.content)["Message-ID"]
        with self._lock:
            self.received[message_id] += 1
            pid, self._kill_pid = self._kill_pid, None
            if pid is not None:
                self.killed_at.append(message_id)
                os.kill(pid, signal.SIGKILL)
        return "250 Message accepted for delivery"

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.received.values())

    def kill_on_accept(self, pid: int | None) -> None:
        with self._lock:
            self._kill_pid = pid


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def mail_sink():
    """A real SMTP server on 127.0.0.1; yields (sink, port)."""
    sink = MailSink()
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


def seed_reminders(url: str, digests: int, surveys: int, staff: int = 3) -> dict[str, int]:
    """Due reminders for `staff` users (daily digests) and one customer (surveys).

    Returns every Message-ID the reminders must be sent with -> the reminder's id.
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
                        role=Role.SUPERVISOR if n == 0 else Role.AGENT,
                    )
                    for n in range(staff)
                ],
            )
            users = list(conn.scalars(select(User.id).order_by(User.id)))
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
                    key=f"daily_digest:{users[n % staff]}{MARK}{n}",
                    kind="daily_digest",
                    audience="user",
                    user_id=users[n % staff],
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
            conn.execute(
                insert(Reminder), [dict(row, due_at=due, run_at=due, status="pending", attempts=0) for row in rows]
            )
            seeded = conn.execute(select(Reminder.id, Reminder.user_id).where(Reminder.key.contains(MARK))).all()
    finally:
        engine.dispose()
    return {f"<reminder-{rid}-{f'user-{uid}' if uid else 'customer'}@{MAIL_DOMAIN}>": rid for rid, uid in seeded}


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
            "DISPATCH_BATCH": "5",
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
        with self.engine.connect() as conn:
            return conn.scalar(self._ours(select(func.count(Reminder.id)).where(Reminder.status != "sent")))

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
        """Process ("<host>:<pid>") -> how many of the reminders it claimed last."""
        with self.engine.connect() as conn:
            return Counter(
                token.rsplit(":", 1)[0]  # claim tokens are "<host>:<pid>:<random>"
                for token in conn.scalars(self._ours(select(Reminder.claimed_by)))
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
        with self.engine.connect() as conn:
            return {
                (rid, uid)
                for rid, uid in conn.execute(
                    self._ours(select(Reminder.id, Reminder.user_id).where(Reminder.audience == "user"))
                )
            }


def log_tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return "(no output)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def report(capsys, text: str) -> None:
    """Show a figure in the test run's output even without -s."""
    with capsys.disabled():
        print(f"\n{text}")
