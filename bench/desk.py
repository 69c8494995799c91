"""The desk under gunicorn: req/s and p50/p95/p99 of every page family at c=1 and c=8, memory per
worker and database bytes per case, on a database of --tickets realistic cases.

    .venv/bin/python bench/desk.py --tickets 10000                      # build once (kept in --dir), then run
    .venv/bin/python bench/desk.py --tickets 1000000 --no-verify --seconds 10
    .venv/bin/python bench/desk.py --tickets 10000 --only queue,case --concurrency 1 8

The database is bench/desk_data.py's (three years of cases with their step records, sealed record log,
reminders, notifications, private links and search documents; `--rebuild` builds it again). The app runs
under gunicorn with the repository's gunicorn.conf.py and 2 sync workers (WEB_CONCURRENCY), on a free
port, with bench/desk_server.py's settings: APP_ENV development, every rate limit off, SMTP off, the
scheduler not started, CSRF on (the clients read each form's token). A closed-loop load generator runs in
separate processes (one per client, so the client is not bound by one GIL), each signed in with its own
session, for --seconds per family and concurrency, after a warm-up request per worker. Every response's
status is checked: anything but the expected answer (200, 201 for API create, 302 to the receipt for the
portal complaint) is counted as an error and the first ones are printed. A bare Flask app under the same
gunicorn settings gives the ceiling API create is compared with, and the `bell` family (the
notification bell's poll: a signed-in agent's session, user and one count, as JSON; not in the default
run) the floor under every staff page. Beside the rates it prints the workers'
CPU time per request (user + system, from /proc): on a shared machine, the figure that depends least on
what else runs.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import desk_data  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
DESK = ("queue", "queue_team", "case", "api_create", "portal")
INSIGHT = ("insight", "insight_year", "at_risk", "team", "warnings")
FAMILIES = DESK + INSIGHT
LABELS = {
    "queue": "queue page (my cases)",
    "queue_team": "queue page (team view)",
    "case": "case page (open and closed)",
    "api_create": "API create (POST /api/v1/tickets)",
    "portal": "portal complaint (POST /complain)",
    "insight": "/insight/ (last 90 days)",
    "insight_year": "/insight/ (last year)",
    "at_risk": "/insight/at-risk",
    "team": "/insight/team",
    "warnings": "/insight/warnings",
    "bare": "bare Flask app (POST JSON)",
    "bell": "bell poll (signed in, one count)",
}


# --- one client -------------------------------------------------------------------------------------


class Client:
    """A browser-like HTTP client: its own cookies, a connection opened again whenever the server closed it
    (gunicorn's sync workers close every connection after the response)."""

    def __init__(self, port: int):
        self.port, self.cookies, self.connection = port, {}, None

    def request(self, method: str, path: str, body=None, headers=None):
        headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:  # e.g. a worker killed at gunicorn's timeout
            self.close()
            return 599, "", f"no answer: {error!r}".encode()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        if (response.getheader("Connection") or "").lower() == "close":
            self.close()
        return response.status, response.getheader("Location") or "", data

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def form_token(self, path: str) -> str:
        status, _location, data = self.request("GET", path)
        found = CSRF.search(data.decode("utf-8", "replace"))
        if status != 200 or not found:
            raise RuntimeError(f"GET {path}: {status}, no CSRF token")
        return found.group(1)

    def post_form(self, path: str, fields: dict):
        body = urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def sign_in(self, email: str, password: str) -> None:
        token = self.form_token("/login")
        status, location, _data = self.post_form("/login", {"csrf_token": token, "email": email, "password": password})
        if status != 302 or "/login" in location:
            raise RuntimeError(f"signing in as {email}: {status} {location}")


# --- what each family asks ---------------------------------------------------------------------------


def _get(path: str):
    def ask(client, _ctx, _rng):
        started = time.perf_counter()
        status, location, data = client.request("GET", path)
        ok = status == 200
        return time.perf_counter() - started, ok, "" if ok else f"{status} GET {path} {location} {data[:160]!r}"

    return ask


def _insight(path: str):
    """An Insight page that must show its figures: a page still waiting for the scheduler's report
    (it reloads itself) does not count."""

    def ask(client, _ctx, _rng):
        started = time.perf_counter()
        status, location, data = client.request("GET", path)
        ok = status == 200 and b'http-equiv="refresh"' not in data
        return time.perf_counter() - started, ok, "" if ok else f"{status} GET {path} {location} (no figures yet)"

    return ask


def _case(client, ctx, rng):
    reference = rng.choice(ctx["open"] if rng.random() < 0.5 else ctx["closed"])
    return _get(f"/tickets/{reference}")(client, ctx, rng)


def _complaint(rng) -> dict:
    n = rng.getrandbits(48)
    return {
        "name": rng.choice(["张伟", "李娜", "Emily Clark", "王芳"]),
        "email": f"desk-bench-{n}@example.com",
        "phone": f"138{n % 10**8:08d}",
        "product": rng.choice(["Product 03", "Product 11", "冰箱", "Kettle KX-200"]),
    }


def _api_create(client, ctx, rng):
    person = _complaint(rng)
    body = {
        "customer": {"name": person["name"], "email": person["email"], "phone": person["phone"]},
        "subject": "Delivery two weeks late",
        "description": "The parcel was promised for Monday and has not come; nobody answers the phone.",
        "channel": "phone",
        "category": "delivery",
        "product": person["product"],
        "priority": "normal",
    }
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {ctx['token']}",
        "Idempotency-Key": uuid.UUID(int=rng.getrandbits(128)).hex,
    }
    started = time.perf_counter()
    status, location, data = client.request("POST", "/api/v1/tickets", json.dumps(body).encode(), headers)
    return time.perf_counter() - started, status == 201, f"{status} POST /api/v1/tickets {data[:200]!r}"


def _portal(client, ctx, rng):
    try:
        token = client.form_token("/complain")  # the form, as the customer opens it (not timed)
    except RuntimeError as error:
        return 0.0, False, str(error)
    person = _complaint(rng)
    fields = {
        "csrf_token": token,
        **person,
        "what_happened": "买的冰箱送来时门是坏的，联系了三次都没有人处理。",
        "wish": "换一台新的。",
        "website": "",
    }
    started = time.perf_counter()
    status, location, _data = client.post_form("/complain", fields)
    ok = status == 302 and location.endswith("/complain/received")
    return time.perf_counter() - started, ok, f"{status} POST /complain {location}"


def _bare(client, ctx, rng):
    body = json.dumps({"customer": {"name": "Emily Clark"}, "subject": "Delivery two weeks late"}).encode()
    started = time.perf_counter()
    status, _location, _data = client.request("POST", "/echo", body, {"Content-Type": "application/json"})
    return time.perf_counter() - started, status == 201, f"{status} POST /echo"


def asks(ctx) -> dict:
    return {
        "queue": _get("/queue"),
        "queue_team": _get("/queue?view=team"),
        "case": _case,
        "api_create": _api_create,
        "portal": _portal,
        "insight": _insight("/insight/"),
        "insight_year": _insight(f"/insight/?date_from={ctx['year_ago']}"),
        "at_risk": _insight("/insight/at-risk"),
        "team": _insight("/insight/team"),
        "warnings": _get("/insight/warnings"),
        "bare": _bare,
        "bell": _get("/notifications/unread"),
    }


def who(family: str) -> tuple[str, str] | None:
    """The account a family's clients sign in with (None: none, the customer or an API token)."""
    if family in ("queue", "queue_team", "case", "bell"):
        return desk_data.AGENT, desk_data.PASSWORD
    if family in INSIGHT:
        return desk_data.SUPERVISOR, desk_data.PASSWORD
    return None


def _client(family, port, ctx, start_at, seconds, once, seed, results) -> None:
    """One closed-loop client: sign in, wait for the start, ask until the time is up."""
    rng = random.Random(seed)
    client = Client(port)
    account = who(family)
    try:
        if account:
            client.sign_in(*account)
        ask = asks(ctx)[family]
        while time.time() < start_at:
            time.sleep(0.001)
        times, errors, examples = [], 0, []
        deadline = start_at + seconds
        while True:
            elapsed, ok, what = ask(client, ctx, rng)
            times.append(elapsed)
            if not ok:
                errors += 1
                if len(examples) < 3:
                    examples.append(what)
            if once or time.time() >= deadline:
                break
        results.put({"times": times, "errors": errors, "examples": examples, "end": time.time()})
    except Exception as error:  # reported, never hidden
        results.put({"times": [], "errors": 1, "examples": [f"client failed: {error!r}"], "end": time.time()})


def measure(family: str, server, ctx, clients: int, seconds: float, once: bool = False) -> dict:
    port = server.port
    results = multiprocessing.get_context("fork").Queue()
    start_at = time.time() + 2.0 + 0.5 * clients  # time to fork and sign in (scrypt) before the start
    processes = [
        multiprocessing.get_context("fork").Process(
            target=_client,
            args=(family, port, ctx, start_at, seconds, once, n * 7919 + zlib.crc32(family.encode()), results),
        )
        for n in range(clients)
    ]
    for process in processes:
        process.start()
    time.sleep(max(0.0, start_at - time.time()))
    cpu_before = server.cpu()  # after the sign-ins
    gathered = [results.get() for _ in processes]
    for process in processes:
        process.join()
    times = sorted(t for result in gathered for t in result["times"])
    cpu_after = server.cpu()  # a worker replaced meanwhile (max_requests) counts from its start
    cpu = sum(used - cpu_before.get(pid, 0.0) for pid, used in cpu_after.items())
    elapsed = max(max(result["end"] for result in gathered), start_at + seconds) - start_at
    return {
        "family": family,
        "clients": clients,
        "requests": len(times),
        "rate": len(times) / elapsed if elapsed > 0 else 0.0,
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "errors": sum(result["errors"] for result in gathered),
        "cpu_ms": cpu / len(times) * 1000 if times else float("nan"),
        "examples": [example for result in gathered for example in result["examples"]][:3],
    }


def percentile(values: list, share: float) -> float:
    """Nearest-rank percentile in ms (values in s, sorted)."""
    if not values:
        return float("nan")
    rank = max(0, min(len(values) - 1, int(round(share / 100 * len(values) + 0.5)) - 1))
    return values[rank] * 1000


# --- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with the repository's gunicorn.conf.py, `workers` sync workers, on a free port."""

    def __init__(self, target: str, workers: int, log: Path, database: Path | None = None):
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            APP_ENV="development",
            WEB_CONCURRENCY=str(workers),
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            GUNICORN_ACCESS_LOG="off",
            GUNICORN_LOG_LEVEL="warning",
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if database is not None:
            env["DESK_BENCH_DB"] = str(database)
        self.log = open(log, "ab")
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--pythonpath",
            str(BENCH),
            # no worker replaced mid-run (gunicorn.conf.py's max_requests): its CPU time would leave the count
            "--max-requests",
            "0",
            target,
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=self.log)
        self.workers, self.database = workers, database
        self._wait()

    def _wait(self) -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: see {self.log.name}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                if len(self.worker_pids()) == self.workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start in 120 s")

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        except OSError:
            return []
        return [int(pid) for pid in children]

    def memory(self) -> list[tuple[float, float, float]]:
        """(VmRSS, PSS, USS) of each worker, MiB: all its pages; its share of the pages it shares with
        the master and the other workers (the app is preloaded, copy-on-write); its own pages only."""
        sizes = []
        for pid in self.worker_pids():
            try:
                rss = _kib(Path(f"/proc/{pid}/status").read_text(), "VmRSS:")
                rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
                own = _kib(rollup, "Private_Clean:") + _kib(rollup, "Private_Dirty:")
                sizes.append((rss / 1024, _kib(rollup, "Pss:") / 1024, own / 1024))
            except OSError:
                pass
        return sizes

    def cpu(self) -> dict[int, float]:
        """CPU seconds (user + system) each worker has used so far."""
        used, tick = {}, os.sysconf("SC_CLK_TCK")
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            used[pid] = (int(fields[11]) + int(fields[12])) / tick
        return used

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# --- the database ------------------------------------------------------------------------------------


def context(path: Path, token_file: Path) -> dict:
    """What the clients need: references of open and closed cases, the API token, a year ago."""
    rng = random.Random(5)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        top = conn.execute("SELECT max(id) FROM tickets").fetchone()[0]
        picked = {"open": [], "closed": []}
        for status in picked:
            tries = 0
            while len(picked[status]) < 300 and tries < 20_000:
                tries += 1
                row = conn.execute(
                    "SELECT reference, status FROM tickets WHERE id = ?", (rng.randint(1, top),)
                ).fetchone()
                if row and row[1] == status:
                    picked[status].append(row[0])
    year_ago = (datetime.now(timezone.utc) - timedelta(days=364)).date().isoformat()
    return {**picked, "token": token_file.read_text().strip(), "year_ago": year_ago}


def storage(path: Path) -> None:
    """Database bytes per case, and where they are (SQLite's dbstat): the pages in use, and apart from
    them the free pages (left by the nightly retention pass and reused by the rows written next)."""
    total = sum(Path(f"{path}{suffix}").stat().st_size for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists())
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tickets = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
        per_case = {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] / tickets
            for table in ("events", "reminders", "notifications", "portal_access")
        }
    print(f"\nDatabase file: {total / 2**20:,.1f} MiB for {tickets:,} cases")
    print("  rows per case: " + ", ".join(f"{table} {count:.1f}" for table, count in per_case.items()))
    rows = desk_data.size_report(path)
    if not rows:
        print("  (this SQLite has no dbstat: no per-table breakdown)")
        return
    used = sum(size for _name, size in rows)
    print(
        f"  in use: {used / tickets / 1000:.1f} KB per case; free pages: {free / 2**20:,.1f} MiB "
        f"({free / tickets / 1000:.1f} KB per case)"
    )
    tables: dict[str, list] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        owner = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
    for name, size in rows:
        table = owner.get(name, name)
        entry = tables.setdefault(table, [0, 0])
        entry[0 if name == table else 1] += size
    print(f"  {'table':<28} {'data KB/case':>12} {'indexes KB/case':>16} {'share':>6}")
    for table, (data, indexes) in sorted(tables.items(), key=lambda item: -sum(item[1]))[:14]:
        share = (data + indexes) / used * 100
        print(f"  {table:<28} {data / tickets / 1000:>12.2f} {indexes / tickets / 1000:>16.2f} {share:>5.1f}%")


# --- the run ------------------------------------------------------------------------------------------


def work_out_reports(path: Path) -> None:
    """What the scheduler's reports job does for the Insight pages the warm-up asked for (above
    REPORT_LIVE_CASES cases a page asks for its report and shows it once worked out): the work, timed."""
    from sqlalchemy import select

    from ticketing.clock import utcnow
    from ticketing.extensions import db
    from ticketing.scheduling import reports
    from ticketing.scheduling.models import ReportSnapshot

    app = desk_data.bench_app(path)
    with app.app_context():
        began = utcnow()
        worked = reports.work()
        for report in db.session.scalars(select(ReportSnapshot).where(ReportSnapshot.computed_at >= began)):
            if report.seconds is not None:
                print(f"    report {report.kind} {report.parameters[:70]}: {report.seconds:.2f} s, {report.status}")
        if worked.failed:
            print(f"    {worked.failed} reports failed: the pages' figures do not count")
        db.engine.dispose()


def _kib(text: str, field: str) -> int:
    """A "Field:   1234 kB" line's number, from /proc's status or smaps_rollup."""
    line = next((line for line in text.splitlines() if line.startswith(field)), None)
    return int(line.split()[1]) if line else 0


def run_families(server: Server, families, ctx, concurrency, seconds, memory: dict) -> list[dict]:
    results = []
    for family in families:
        measure(family, server, ctx, min(2, server.workers), 0, once=True)  # warm up
        if family in INSIGHT:
            work_out_reports(server.database)
        for clients in concurrency:
            result = measure(family, server, ctx, clients, seconds)
            results.append(result)
            print(_line(result), flush=True)
            for example in result["examples"]:
                print(f"      error: {example}", flush=True)
        group = "Insight" if family in INSIGHT else "bare" if family == "bare" else "desk"
        memory.setdefault(group, []).extend(server.memory())
    return results


def _line(result: dict) -> str:
    return (
        f"  {LABELS[result['family']]:<36} c={result['clients']:<2} {result['requests']:>6} req "
        f"{result['rate']:>8.1f} req/s  p50 {result['p50']:>8.1f}  p95 {result['p95']:>8.1f}  "
        f"p99 {result['p99']:>8.1f} ms  server CPU {result['cpu_ms']:>7.1f} ms/req  errors {result['errors']}"
    )


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "log", "-1", "--format=%h %s"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()[:100]
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench"))
    parser.add_argument("--rebuild", action="store_true", help="build the database again")
    parser.add_argument("--no-verify", action="store_true", help="skip `flask audit verify` after building")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per family and concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--no-storage", action="store_true", help="skip the bytes per case (minutes at 1M cases)")
    parser.add_argument("--only", default="", help=f"comma-separated families: {','.join(FAMILIES)},bare,bell")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()] or [*FAMILIES, "bare"]
    unknown = set(chosen) - {*FAMILIES, "bare", "bell"}
    if unknown:
        parser.error(f"unknown families: {', '.join(sorted(unknown))}")

    path, token_file = desk_data.ensure(args.dir, args.tickets, args.rebuild, not args.no_verify)
    if not args.no_storage:
        storage(path)  # before the load adds its own cases
    ctx = context(path, token_file)
    print(f"\nCommit {commit()}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    print(
        f"gunicorn -c gunicorn.conf.py, {args.workers} sync workers (no keep-alive: each request opens a "
        f"connection); APP_ENV=development, rate limits OFF, SMTP off, scheduler not started, CSRF on; "
        f"{args.seconds:g} s per family and concurrency, closed loop, one process per client\n"
    )
    log = args.dir / "desk-gunicorn.log"
    memory: dict[str, list] = {}
    results = []
    app_families = [family for family in chosen if family != "bare"]
    if app_families:
        server = Server("desk_server:app", args.workers, log, path)
        try:
            results += run_families(server, app_families, ctx, args.concurrency, args.seconds, memory)
        finally:
            server.stop()
    if "bare" in chosen:
        server = Server("bare_flask:app", args.workers, log)
        try:
            results += run_families(server, ["bare"], ctx, args.concurrency, args.seconds, memory)
        finally:
            server.stop()

    print(
        f"\n{'':<38} {'c':<4} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10} {'errors':>7}"
    )
    for result in results:
        print(
            f"{LABELS[result['family']]:<38} {result['clients']:<4} {result['rate']:>8.1f} {result['p50']:>8.1f} "
            f"{result['p95']:>8.1f} {result['p99']:>8.1f} {result['cpu_ms']:>10.1f} {result['errors']:>7}"
        )
    by = {(result["family"], result["clients"]): result for result in results}
    for clients in args.concurrency:
        api, bare = by.get(("api_create", clients)), by.get(("bare", clients))
        if api and bare and bare["rate"]:
            print(f"API create at c={clients}: {api['rate'] / bare['rate'] * 100:.1f}% of a bare Flask app")
    for group, sizes in memory.items():
        if sizes:
            rss, pss, uss = ([size[n] for size in sizes] for n in range(3))
            print(
                f"Memory per worker after the {group} pages: {min(rss):.0f}–{max(rss):.0f} MiB VmRSS, "
                f"{min(pss):.0f}–{max(pss):.0f} MiB PSS, {min(uss):.0f}–{max(uss):.0f} MiB its own (USS)"
            )
    print(f"Load average at the end: {os.getloadavg()[0]:.1f}")
    errors = sum(result["errors"] for result in results)
    if errors:
        print(f"{errors} responses were not the expected answer: those figures do not count.")


if __name__ == "__main__":
    main()
