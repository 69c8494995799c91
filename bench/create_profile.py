"""Where a create goes: the SQL, the commits and the time of API creates and portal complaints.

    .venv/bin/python bench/create_profile.py                       # 200 of each through the test client
    .venv/bin/python bench/create_profile.py --creates 500 --processes 1 2 4 8
    .venv/bin/python bench/create_profile.py --creates 200 --profile 25   # cProfile's top 25 functions

One SQLite file under --dir (made afresh with `flask db upgrade`, so the settings and catalogues are
the migrations' seeds), an agent with an API token. Then, in this process through Flask's test client:
--creates POST /api/v1/tickets (each a new customer) and as many portal complaints (POST /complain,
CSRF off), printing per create the SQL statements by kind, the transactions and commits, and the time
split between SQL (cursor execute), commit (the fsync) and Python. With --processes, that many
processes each send their share of --creates API creates to the same file at once (the write lock's
behaviour: how many are refused, how long they wait), printing creates/s, the answers by status and
that every case is whole (one create event per case, the log's chain verified).
"""

import argparse
import cProfile
import multiprocessing
import pstats
import sys
import time
from collections import Counter
from pathlib import Path

from flask import got_request_exception
from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import Config
from ticketing import create_app
from ticketing.auth.services import create_user
from ticketing.auth.tokens import issue_token
from ticketing.extensions import db

PASSWORD = "bench password 2026"
WRITES = {"INSERT", "UPDATE", "DELETE", "REPLAC"}


def bench_app(path: Path, **settings):
    config = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "APP_ENV": "development",  # made-up keys: a benchmark's database, not an installation
        "SMTP_HOST": None,
        "WTF_CSRF_ENABLED": False,
        "API_RATE_LIMIT": "1000000 per minute",
        "PORTAL_RATE_LIMIT": "1000000 per minute",
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "UPLOAD_DIR": str(path.parent / "uploads"),
        **settings,
    }
    return create_app(type("CreateBenchConfig", (Config,), config))


def build(path: Path) -> str:
    """A fresh database with one agent; the agent's API token."""
    from flask_migrate import upgrade

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = bench_app(path)
    with app.app_context():
        upgrade()
        agent = create_user(email="bench.agent@example.com", password=PASSWORD, role="agent", name="Bench Agent")
        db.session.flush()
        _row, secret = issue_token(agent, "bench")
        db.session.commit()
        db.engine.dispose()
    return secret


class Meter:
    """SQL statements by kind, commits and the seconds spent executing and committing."""

    def __init__(self, engine):
        self.kinds: Counter = Counter()
        self.commits = 0
        self.sql_seconds = self.commit_seconds = self.locked_seconds = 0.0
        self._locked_at: float | None = None
        self._started: list[float] = []
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "commit", self._commit)

    def _before(self, conn, _cursor, statement, *_args):
        self._started.append(time.perf_counter())
        if self._locked_at is None and statement.lstrip()[:6].upper() in WRITES:
            self._locked_at = self._started[-1]  # the driver's BEGIN IMMEDIATE comes with this statement
        self.kinds[statement.lstrip().split(None, 1)[0].upper()] += 1
        self.statements.append(" ".join(statement.split())[:150])

    def _after(self, *_args):
        self.sql_seconds += time.perf_counter() - self._started.pop()

    def _commit(self, _conn):
        self.commits += 1


def _time_commits(engine, meter: Meter):
    """The driver's commit (where SQLite syncs the WAL), timed by wrapping the dialect's do_commit."""
    dialect = engine.dialect
    original = dialect.do_commit

    def do_commit(dbapi_connection):
        started = time.perf_counter()
        original(dbapi_connection)
        ended = time.perf_counter()
        meter.commit_seconds += ended - started
        if meter._locked_at is not None:  # the write lock, from the first write to the end of its commit
            meter.locked_seconds += ended - meter._locked_at
            meter._locked_at = None

    dialect.do_commit = do_commit


def _letters(n: int) -> str:
    """A number as letters: names are letters only (the portal and the API refuse digits in one)."""
    word = ""
    for _ in range(6):
        n, digit = divmod(n, 26)
        word = chr(ord("a") + digit) + word
    return word.capitalize()


def api_body(n: int, tag: str) -> dict:
    return {
        "customer": {
            "name": f"Customer {_letters(abs(hash(tag)) % 1000)} {_letters(n + 1)}",
            "email": f"c{tag}{n}@example.com",
            "phone": f"+86 139 {abs(n) % 10**8:08d}",
        },
        "subject": f"Kettle leaks ({tag} {n})",
        "description": "The kettle leaks after two days of use.",
        "channel": "phone",
        "category": "product",
        "product": "Kettle K2",
        "priority": "high",
        "expectation": "A kettle that works",
    }


def portal_form(n: int, tag: str) -> dict:
    return {
        "name": f"Customer {_letters(abs(hash(tag)) % 1000)} {_letters(n + 1)}",
        "email": f"p{tag}{n}@example.com",
        "phone": "",
        "product": "Kettle K2",
        "what_happened": "The kettle leaks after two days of use.",
        "wish": "A kettle that works",
        "website": "",
    }


def _api_create(client, secret, n, tag):
    return client.post("/api/v1/tickets", json=api_body(n, tag), headers={"Authorization": f"Bearer {secret}"})


def _portal_create(client, _secret, n, tag):
    return client.post("/complain", data=portal_form(n, tag))


def measure(app, secret: str, label: str, send, creates: int, profile: int, show_sql: bool, sort="cumulative") -> None:
    with app.app_context():
        engine = db.engine
    meter = Meter(engine)
    _time_commits(engine, meter)
    client = app.test_client()
    statuses: Counter = Counter()
    tag = label.split()[0].lower()
    send(client, secret, -1, tag + "warm")  # the first request's imports and caches apart
    meter.kinds.clear()
    meter.commits, meter.sql_seconds, meter.commit_seconds, meter.locked_seconds, meter.statements = (
        0,
        0.0,
        0.0,
        0.0,
        [],
    )
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for n in range(creates):
        statuses[send(client, secret, n, tag).status_code] += 1
        if n == 0 and show_sql:
            print(f"\n{label}: the statements of one create")
            print("\n".join(f"  {s}" for s in meter.statements))
    if profiler:
        profiler.disable()
    total = time.perf_counter() - started
    python = total - meter.sql_seconds - meter.commit_seconds
    kinds = ", ".join(f"{k} {v / creates:.1f}" for k, v in meter.kinds.most_common())
    print(f"\n{label}: {creates} creates, answers {dict(statuses)}, {creates / total:.0f} creates/s")
    statements = sum(meter.kinds.values()) / creates
    print(f"  per create: {statements:.1f} statements ({kinds}); {meter.commits / creates:.1f} commits")
    print(
        f"  per create: {1000 * total / creates:.2f} ms = SQL {1000 * meter.sql_seconds / creates:.2f} + "
        f"commit {1000 * meter.commit_seconds / creates:.2f} + Python {1000 * python / creates:.2f}; "
        f"the write lock held {1000 * meter.locked_seconds / creates:.2f} ms "
        f"({100 * meter.locked_seconds / total:.0f}%)"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats(sort).print_stats(profile)
    event.remove(engine, "before_cursor_execute", meter._before)
    event.remove(engine, "after_cursor_execute", meter._after)
    event.remove(engine, "commit", meter._commit)


def _writer(path: str, secret: str, creates: int, tag: str, start, results) -> None:
    app = bench_app(Path(path))
    app.logger.disabled = True  # a 500 is counted below, its traceback kept out of the figures
    got_request_exception.connect(_keep_error, app, weak=False)
    client = app.test_client()
    statuses: Counter = Counter()
    errors: Counter = Counter()
    slowest = 0.0
    start.wait()
    for n in range(creates):
        began = time.perf_counter()
        response = _api_create(client, secret, n, tag)
        slowest = max(slowest, time.perf_counter() - began)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            errors[_first_error(app)] += 1
    results.put((dict(statuses), slowest, dict(errors)))


def _keep_error(sender, exception, **_extra):
    sender.bench_last_error = exception


def _first_error(app) -> str:
    """The exception of the last 500, in one line (the app's error log is off in the writers)."""
    error = getattr(app, "bench_last_error", None)
    return f"{type(error).__name__}: {str(error).splitlines()[0][:120]}" if error else "500"


def writers(path: Path, secret: str, processes: int, creates: int) -> None:
    """`processes` processes at once, `creates` API creates in all, on the one file."""
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    share = creates // processes
    workers = [
        ctx.Process(target=_writer, args=(str(path), secret, share, f"w{processes}x{i}", start, results))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    time.sleep(3)  # every process has built its app
    began = time.perf_counter()
    start.set()
    answers = [results.get(timeout=600) for _ in workers]
    took = time.perf_counter() - began
    for worker in workers:
        worker.join()
    statuses = sum((Counter(s) for s, _, _ in answers), Counter())
    errors = sum((Counter(e) for _, _, e in answers), Counter())
    slowest = max(s for _, s, _ in answers)
    done = share * processes
    print(
        f"\n{processes} writers: {done} creates in {took:.2f} s = {done / took:.0f} creates/s, "
        f"answers {dict(statuses)}, slowest {1000 * slowest:.0f} ms"
    )
    for error, count in errors.items():
        print(f"  {count} x {error}")
    _check_whole(path)


def _check_whole(path: Path) -> None:
    from ticketing.cases import chain
    from ticketing.cases.audit import Event
    from ticketing.cases.models import Ticket

    app = bench_app(path)
    with app.app_context():
        tickets = db.session.scalar(select(func.count(Ticket.id)))
        created = db.session.scalar(select(func.count(Event.id)).where(Event.action == "create"))
        checked, broken = chain.verify(Event)
        print(f"  {tickets} cases, {created} create events, chain: {checked} events, broken {broken}")
        assert tickets == created and broken is None
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--creates", type=int, default=200)
    parser.add_argument("--processes", type=int, nargs="*", default=[], help="e.g. 2 4 8: writers at once")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N functions")
    parser.add_argument("--sql", action="store_true", help="print the statements of one create")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench-create"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    path = args.dir / "create.sqlite"
    secret = build(path)
    app = bench_app(path)
    measure(app, secret, "API create", _api_create, args.creates, args.profile, args.sql)
    measure(app, secret, "portal complaint", _portal_create, args.creates, args.profile, args.sql)
    with app.app_context():
        db.engine.dispose()
    for processes in args.processes:
        writers(path, secret, processes, args.creates)


if __name__ == "__main__":
    main()
