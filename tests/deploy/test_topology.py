"""The production topology under load: gunicorn with 4 workers and 2 scheduler processes on PostgreSQL,
rate limits in Redis, behind one trusted proxy (each simulated client sends its own X-Forwarded-For).

A bounded mixed load (portal complaints, logins with signed-in page loads, desk intake and a note) runs
while one web worker and one scheduler are SIGKILLed (the scheduler between the SMTP server accepting a
message and its commit). Then: every acknowledged complaint and intake is stored, every reminder is sent
and at most one message is repeated (the one the kill interrupted), /readyz names the dead scheduler
until it is back, the login limit holds across workers, audit verify passes, and a backup restores into
a second database and verifies. PostgreSQL run only (SKIP LOCKED claims, pg_dump)."""

import html
import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select

from tests.databases import temporary_postgres_database
from tests.deploy.test_gunicorn import (
    GUNICORN,
    PASSWORD,
    ROOT,
    _production_env,
    _wait_until_serving,
    redis_url,  # noqa: F401  (the fixture: a Redis of this module's own)
)
from tests.mail import free_port
from tests.scheduling_processes.support import (
    Inspector,
    log_tail,
    mail_sink,
    on_postgres,
    report,
    seed_reminders,
    start_scheduler,
    stop,
    wait_until,
)
from ticketing.cases.models import Customer, Ticket

COMPLAINTS, LOGINS, STAFF_ACTIONS, LIMIT_TRIES = 60, 40, 20, 20
LOGIN_LIMIT = 5  # per address per minute, shared by the workers through Redis
DIGESTS = 180
AGENT = "agent@example.com"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """One browser behind the proxy: its own cookies and address; a new connection per request."""

    def __init__(self, url: str, address: str):
        self.url, self.address = url, address
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()), _NoRedirect)

    def send(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        """(status, body, Location); a connection cut by the killed worker raises OSError or IncompleteRead."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, body, headers={"X-Forwarded-For": self.address})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Location", "")

    def token(self, path: str) -> str:
        page = self.send(path)[1]
        return html.unescape(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))

    def login(self, email: str, password: str, query: str = "") -> int:
        token = self.token("/login")
        return self.send(f"/login{query}", {"csrf_token": token, "email": email, "password": password})[0]


class Load:
    """The mixed load's tasks and what they saw."""

    def __init__(self, url: str):
        self.url = url
        self.lock = threading.Lock()
        self.acknowledged: list[str] = []  # markers of complaints and intakes answered with the redirect
        self.cut = 0  # requests whose connection the killed worker took with it
        self.signed_in_pages: list[int] = []
        self.done = 0

    def _address(self, kind: int, n: int, attempt: int) -> str:
        return f"10.{kind}.{attempt}.{n + 1}"

    def _retrying(self, task, kind: int, n: int) -> None:
        """A task cut off by the worker's death is run again as a new client, as a person would retry."""
        try:
            for attempt in range(3):
                try:
                    task(Client(self.url, self._address(kind, n, attempt)), n, attempt)
                    return
                except (OSError, http.client.HTTPException) as error:  # the connection went with the worker
                    cut = error
                    with self.lock:
                        self.cut += 1
            raise AssertionError(f"task {kind}/{n} was cut off three times") from cut
        finally:
            with self.lock:
                self.done += 1

    def _acknowledge(self, marker: str) -> None:
        with self.lock:
            self.acknowledged.append(marker)

    def complaint(self, client: Client, n: int, attempt: int) -> None:
        marker = f"topology-complaint-{n}-{attempt}"
        form = {
            "csrf_token": client.token("/complain"),
            "name": f"Mei {'ABCDEFGHIJ'[n % 10]}. Lin",
            "email": f"customer{n}@example.com",
            "what_happened": f"The kettle leaks from the base ({marker}).",
        }
        status, body, location = client.send("/complain", form)
        assert status == 302 and location.endswith("/complain/received"), (status, _errors(body))
        self._acknowledge(marker)

    def login(self, client: Client, n: int, attempt: int) -> None:
        assert client.login(AGENT, PASSWORD) == 302
        pages = [client.send(f"/account?signed-in={n}-{page}")[0] for page in range(3)]
        with self.lock:
            self.signed_in_pages += pages

    def staff_action(self, client: Client, n: int, attempt: int) -> None:
        assert client.login(AGENT, PASSWORD) == 302
        marker = f"topology-intake-{n}-{attempt}"
        form = {
            "csrf_token": client.token("/intake"),
            "customer_name": f"Caller {n}",
            "customer_phone": f"+86 10 5555 {n:04d}",
            "subject": f"Phone complaint {n}",
            "channel": "phone",
            "priority": "normal",
            "customer_words": f"The washing machine stops mid-cycle ({marker}).",
        }
        status, body, location = client.send("/intake", form)
        assert status == 302 and "/tickets/" in location, (status, _errors(body))
        self._acknowledge(marker)
        case = urllib.parse.urlsplit(location).path
        status, page, location = client.send(case)
        assert status == 200 and 'name="note-version"' in page, (status, case, location)
        token = html.unescape(re.search(r'name="note-csrf_token"[^>]*value="([^"]+)"', page).group(1))
        field = re.search(r'<input[^>]*name="note-version"[^>]*>', page).group(0)
        note = {
            "note-csrf_token": token,
            "note-version": re.search(r'value="(\d+)"', field).group(1),
            "note-body": f"Called back ({marker}).",
        }
        status, body, location = client.send(f"{case}/actions/note", note)
        assert status == 302, (status, _errors(body))

    def tasks(self):
        return (
            [(self.complaint, 1, n) for n in range(COMPLAINTS)]
            + [(self.login, 2, n) for n in range(LOGINS)]
            + [(self.staff_action, 3, n) for n in range(STAFF_ACTIONS)]
        )

    def run(self, pool: ThreadPoolExecutor):
        ordered = self.tasks()
        ordered = [ordered[i] for i in sorted(range(len(ordered)), key=lambda i: (i * 7919) % len(ordered))]
        return [pool.submit(self._retrying, task, kind, n) for task, kind, n in ordered]


def _errors(page: str) -> list[str]:
    """The messages a refused form shows (the body alone is too long to read in a failure)."""
    return re.findall(r'class="[^"]*(?:error|invalid)[^"]*"[^>]*>\s*([^<]+)', page)


def _workers(master: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def _flask(env: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _readyz(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def _read(url: str, read):
    """`read(connection)` on a connection of the test's own, to the database the processes share."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return read(conn)
    finally:
        engine.dispose()


def _case_count(url: str) -> int:
    return _read(url, lambda conn: conn.scalar(select(func.count(Ticket.id))))


def test_the_topology_under_load_with_a_worker_and_a_scheduler_killed(tmp_path, redis_url, capsys):
    if not on_postgres():
        pytest.skip("needs PostgreSQL (SKIP LOCKED claims, pg_dump): set TEST_DATABASE_URL=postgresql+psycopg://…")
    server = os.environ["TEST_DATABASE_URL"]
    logs = {name: tmp_path / f"{name}.log" for name in ("gunicorn", "sched-1", "sched-2")}
    with temporary_postgres_database(server, "ticketing_topo") as url, mail_sink() as (sink, smtp_port):
        env = _production_env(
            tmp_path,
            DATABASE_URL=url,
            RATELIMIT_STORAGE_URI=redis_url,
            TRUSTED_PROXIES="1",
            LOGIN_RATE_LIMIT=f"{LOGIN_LIMIT} per minute",
            PORTAL_RATE_LIMIT="100 per hour",
            SCHEDULER_PROCESSES="2",
            SCHEDULER_HEARTBEAT_SECONDS="2",  # /readyz: silent after 6 s
            READY_MAX_DISPATCH_LAG_SECONDS="3600",
        )
        for command in (
            ["db", "upgrade"],
            ["create-user", "--email", AGENT, "--password", PASSWORD, "--role", "agent"],
        ):
            done = _flask(env, *command)
            assert done.returncode == 0, done.stdout + done.stderr
        expected = seed_reminders(url, digests=DIGESTS, surveys=0)
        inspector = Inspector(url)
        with inspector.engine.begin() as conn:  # the seeded case has no record log: audit verify would refuse it
            conn.execute(delete(Ticket))
            conn.execute(delete(Customer))

        scheduler_env = {
            name: env[name]
            for name in (
                "SECRET_KEY",
                "AUDIT_KEYS",
                "UPLOAD_DIR",
                "AUDIT_ANCHOR_DIR",
                "PUBLIC_URL",
                "RATELIMIT_STORAGE_URI",
                "SCHEDULER_HEARTBEAT_SECONDS",
            )
        }

        def scheduler(name: str) -> subprocess.Popen:
            return start_scheduler(url, smtp_port, logs[name], SCHEDULER_NAME=name, **scheduler_env)

        port = free_port()
        site = f"http://127.0.0.1:{port}"
        processes: dict[str, subprocess.Popen] = {}
        try:
            with open(logs["gunicorn"], "w") as log:
                processes["gunicorn"] = subprocess.Popen(
                    [
                        str(GUNICORN),
                        "-c",
                        "gunicorn.conf.py",
                        "--no-control-socket",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "-w",
                        "4",
                        "wsgi:app",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            _wait_until_serving(site, processes["gunicorn"], tmp_path)
            started = time.monotonic()
            processes["sched-1"], processes["sched-2"] = scheduler("sched-1"), scheduler("sched-2")
            assert wait_until(lambda: _readyz(site)[0] == 200, timeout=30), _readyz(site)

            load = Load(site)
            with ThreadPoolExecutor(8) as pool:
                futures = load.run(pool)
                total = len(futures)
                assert wait_until(lambda: load.done >= total // 3, timeout=60)
                victim = _workers(processes["gunicorn"])[0]
                os.kill(victim, signal.SIGKILL)
                sink.kill_on_accept(processes["sched-2"].pid)  # at its next accepted message
                for future in futures:
                    future.result(timeout=90)
            assert sink.killed_at, "the scheduler was not killed: no message was sent after the web worker's death"
            processes["sched-2"].wait(10)

            def silent() -> bool:
                status, body = _readyz(site)
                return status == 503 and '"sched-2"' in body.split('"silent"', 1)[-1]

            assert wait_until(silent, timeout=15), _readyz(site)
            dead_reported = _readyz(site)
            processes["sched-2"] = scheduler("sched-2")
            assert wait_until(lambda: _readyz(site)[0] == 200, timeout=30), _readyz(site)

            # The login limit, from one address, five tries at a time: the sync workers each take some.
            def guess(n: int) -> int:
                return Client(site, "10.9.9.9").login("nobody@example.com", "wrong password 123", f"?limit-check={n}")

            with ThreadPoolExecutor(5) as pool:
                tries = list(pool.map(guess, range(LIMIT_TRIES)))
            assert wait_until(lambda: inspector.unsent() == 0, timeout=60), "\n\n".join(
                log_tail(logs[name]) for name in ("sched-1", "sched-2")
            )
            time.sleep(2)  # room for a late second copy
            elapsed = time.monotonic() - started
        finally:
            for name in ("sched-1", "sched-2"):
                if name in processes:
                    stop(processes[name])
            if "gunicorn" in processes:
                processes["gunicorn"].terminate()
                processes["gunicorn"].wait(30)
            inspector.close()

        assert "Traceback" not in logs["gunicorn"].read_text(), log_tail(logs["gunicorn"])
        descriptions = select(Ticket.description).where(Ticket.description.contains("topology-"))
        texts = _read(url, lambda conn: conn.scalars(descriptions).all())
        stored = [re.search(r"topology-[a-z]+-\d+-\d+", text).group(0) for text in texts]
        lost = sorted(set(load.acknowledged) - set(stored))
        assert lost == [], f"acknowledged but not stored: {lost}"
        assert len(stored) == len(set(stored)), "a submission stored twice"
        assert load.signed_in_pages == [200] * 3 * LOGINS
        access = (tmp_path / "access.log").read_text().splitlines()
        limit_lines = [line for line in access if "/login?limit-check=" in line]
        pids = {re.search(r"pid=<?(\d+)", line).group(1) for line in limit_lines}
        assert (sum(status != 429 for status in tries), tries.count(429)) == (LOGIN_LIMIT, LIMIT_TRIES - LOGIN_LIMIT), (
            tries
        )
        assert len(limit_lines) == LIMIT_TRIES and len(pids) >= 2, limit_lines

        inspector = Inspector(url)
        try:
            statuses = inspector.statuses()
        finally:
            inspector.close()
        missing = [message_id for message_id in expected if sink.received[message_id] == 0]
        repeated = {message_id: n - 1 for message_id, n in sink.received.items() if n > 1}
        assert statuses == {"sent": len(set(expected.values()))}
        assert missing == []
        assert sum(repeated.values()) <= len(sink.killed_at), repeated  # the one accepted, uncommitted message

        verified = _flask(env, "audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        backups = tmp_path / "backups"
        made = _flask(env, "backup", "create", "--out", str(backups))
        assert made.returncode == 0, made.stdout + made.stderr
        (archive,) = backups.iterdir()
        with temporary_postgres_database(server, "ticketing_topo_restored") as restored_url:
            restored_env = env | {
                "DATABASE_URL": restored_url,
                "UPLOAD_DIR": str(tmp_path / "restored-uploads"),
                "AUDIT_ANCHOR_DIR": str(tmp_path / "restored-anchors"),
            }
            restored = _flask(restored_env, "backup", "restore", str(archive))
            assert restored.returncode == 0, restored.stdout + restored.stderr
            cases = (_case_count(url), _case_count(restored_url))
            assert cases[0] == cases[1]

    report(
        capsys,
        f"topology (gunicorn 4 workers, 2 schedulers, PostgreSQL, Redis): {total} tasks in {elapsed:.1f} s; "
        f"{len(load.acknowledged)} complaints and intakes acknowledged, {len(lost)} lost, {load.cut} requests cut "
        f"by the killed worker and retried; {len(load.signed_in_pages)} signed-in page loads, all 200; "
        f"{len(expected)} reminder messages, {len(missing)} lost, {sum(repeated.values())} repeated "
        f"(bound: {len(sink.killed_at)}, one per scheduler kill); /readyz {dead_reported[0]} naming sched-2 "
        f"while dead, 200 once back; login limit {LOGIN_LIMIT}: {LIMIT_TRIES - tries.count(429)} of {LIMIT_TRIES} "
        f"let through by {len(pids)} workers; audit verify ok; backup of {cases[0]} cases restored and verified.",
    )
