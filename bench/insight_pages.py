"""How long the customers-at-risk, team and early-warning pages take, with 100,000 and 1,000,000 tickets.

    .venv/bin/python bench/insight_pages.py                      # 100,000 and 1,000,000 tickets
    .venv/bin/python bench/insight_pages.py --tickets 10000 --repeat 3 --dir /tmp/ticketing-bench --rebuild
    .venv/bin/python bench/insight_pages.py --tickets 100000 --sql 8   # the 8 slowest statements per page

Each size gets a SQLite database (kept in --dir as insight-N.sqlite; --rebuild builds it again) made by
bench/dashboard.py's builder — three years of a desk's history with every step record — and then, in a
step of its own, the rows these pages read that the dashboard's history lacks: the reminders a case
leaves behind (acknowledgement, assignment, deadline warnings and breaches sent or cancelled, follow-up
and survey notices: about four per case), open win-back actions for some customers, supervisors'
review decisions and quality scores of sampled closed cases. Then each page is asked for through the
test client as a logged-in supervisor, --repeat times after a warm-up; the median is printed, with the
SQL statements of the last request and their time, executing and fetching every row (a timing cursor).
"""

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dashboard

from ticketing.extensions import db

PAGES = (
    ("at-risk, first page", "/insight/at-risk"),
    ("at-risk, CSV", "/insight/at-risk/export.csv"),
    ("team, 30 days", "/insight/team?days=30"),
    ("team, 90 days", "/insight/team?days=90"),
    ("team, 365 days", "/insight/team?days=365"),
    ("warnings", "/insight/warnings"),
)

# The reminders a case leaves behind, made from the tickets in the database (one INSERT … SELECT each):
# (kind, audience, which tickets, status). The conditions spread them as the scheduler would.
REMINDERS = (
    ("portal_link", "customer", "1 = 1", "'sent'"),
    ("assigned", "assignee", "1 = 1", "'sent'"),
    ("response_at_risk", "assignee", "id % 3 = 0", "CASE WHEN status = 'open' THEN 'pending' ELSE 'cancelled' END"),
    ("response_breached", "supervisors", "id % 9 = 0", "'sent'"),
    ("resolution_at_risk", "assignee", "id % 4 = 1", "CASE WHEN status = 'open' THEN 'pending' ELSE 'cancelled' END"),
    ("resolution_breached", "supervisors", "id % 17 = 0", "'sent'"),
    ("promise_passed", "assignee", "id % 41 = 0", "'sent'"),
    ("follow_up_due", "assignee", "status = 'closed'", "'sent'"),
)


def build(path: Path, tickets: int) -> float:
    """The dashboard's history, then the rows the insight pages read; returns the seconds it took."""
    started = time.perf_counter()
    dashboard.build(path, tickets)
    app = dashboard.bench_app(path)
    with app.app_context(), db.engine.connect() as conn:
        conn.execute(text("PRAGMA synchronous=OFF"))
        supervisor = conn.scalar(text("SELECT id FROM users WHERE email = :e"), {"e": dashboard.SUPERVISOR})
        for kind, audience, where, status in REMINDERS:
            conn.execute(
                text(
                    "INSERT INTO reminders (key, kind, ticket_id, user_id, audience, due_at, run_at, status,"
                    " attempts, sent_at, created_at)"
                    f" SELECT '{kind}:' || id, '{kind}', id, assignee_id, '{audience}', created_at, created_at,"
                    f" {status}, 1, created_at, created_at FROM tickets WHERE {where}"
                )
            )
            conn.commit()
        # Open win-back actions for one customer in 97, started by the supervisor for an agent.
        conn.execute(
            text(
                "INSERT INTO win_back_actions (customer_id, owner_id, due_date, plan, status, risk_score,"
                " created_by_id, created_at, updated_at)"
                " SELECT id, (SELECT min(id) FROM users WHERE role = 'agent') + id % :agents, date('now', '+7 days'),"
                " 'Call them', CASE WHEN id % 3 = 0 THEN 'done' ELSE 'open' END, 5, :sup, datetime('now'),"
                " datetime('now') FROM customers WHERE id % 97 = 0"
            ),
            {"agents": dashboard.AGENTS, "sup": supervisor},
        )
        # The supervisor decided two reviews in three (one in ten returned), a day after each was recorded.
        conn.execute(
            text(
                "UPDATE review_records SET decision = CASE WHEN id % 10 = 0 THEN 'returned' ELSE 'approved' END,"
                " decided_by_id = :sup, decided_at = datetime(created_at, '+1 day') WHERE id % 3 != 0"
            ),
            {"sup": supervisor},
        )
        # Quality scores of one closed case in twenty, scored two days after closing.
        conn.execute(
            text(
                "INSERT INTO quality_scores (sample, ticket_id, agent_id, reviewer_id, score, drawn_at, scored_at)"
                " SELECT 'bench-' || strftime('%Y-%m', closed_at), id, assignee_id, :sup, 50 + id % 51,"
                " closed_at, datetime(closed_at, '+2 days') FROM tickets WHERE status = 'closed' AND id % 20 = 0"
            ),
            {"sup": supervisor},
        )
        conn.commit()
        conn.execute(text("ANALYZE"))
        conn.commit()
    with app.app_context():
        db.engine.dispose()
    return time.perf_counter() - started


class TimedCursor(sqlite3.Cursor):
    """A cursor that adds the time of executing and of fetching to its statement's row in STATEMENTS:
    SQLite hands rows over as it finds them, so a GROUP BY walked in index order costs most at fetch."""

    def _timed(self, method, *args):
        started = time.perf_counter()
        try:
            return method(*args)
        finally:
            STATEMENTS[-1][0] += time.perf_counter() - started

    def execute(self, statement, *args):
        STATEMENTS.append([0.0, statement, args[0] if args else ()])
        return self._timed(super().execute, statement, *args)

    def fetchone(self):
        return self._timed(super().fetchone)

    def fetchmany(self, *args):
        return self._timed(super().fetchmany, *args)

    def fetchall(self):
        return self._timed(super().fetchall)


class TimedConnection(sqlite3.Connection):
    def cursor(self, factory=TimedCursor):
        return super().cursor(factory)


STATEMENTS: list[list] = []  # [seconds, statement, parameters] of the request being measured


def timed_app(path: Path):
    """The benchmark's app, its SQLite connections timing each statement to its last row."""
    app = dashboard.bench_app(path)
    with app.app_context():
        db.engine.dispose()
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"], connect_args={"factory": TimedConnection})
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], **options)
    with app.app_context():
        db._app_engines[app][None] = engine
    return app


def measure(path: Path, repeat: int, show_sql: int, explain: bool = False, only=None) -> list[dict]:
    app = timed_app(path)
    client = app.test_client()
    login = {"email": dashboard.SUPERVISOR, "password": dashboard.PASSWORD}
    assert client.post("/login", data=login).status_code == 302
    with app.app_context():
        tickets = db.session.scalar(text("SELECT count(*) FROM tickets"))
    results = []
    for label, url in PAGES:
        if only and not any(label.startswith(prefix) for prefix in only):
            continue
        client.get(url)  # warm up: imports, compiled statements, templates
        times = []
        for _ in range(repeat):
            STATEMENTS.clear()
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        sql = [tuple(row) for row in STATEMENTS]
        result = dict(label=label, url=url, tickets=tickets, median=statistics.median(times), times=times)
        result.update(sql_total=sum(row[0] for row in sql), statements=len(sql), bytes=len(response.data))
        results.append(result)
        print(
            f"{tickets:>10,} tickets  {label:<20} median {result['median']:.3f} s "
            f"({', '.join(f'{t:.3f}' for t in times)}); SQL {result['sql_total']:.3f} s in "
            f"{result['statements']} statements; {result['bytes']:,} bytes",
            flush=True,
        )
        for seconds, statement, parameters in sorted(sql, key=lambda row: -row[0])[:show_sql]:
            print(f"      {seconds:7.3f} s  {' '.join(statement.split())[:300]}")
            if explain:
                with sqlite3.connect(path) as conn:
                    for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters):
                        print(f"                 {row[-1]}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench"))
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--sql", type=int, default=5, help="print this many of the slowest statements per page")
    parser.add_argument("--name", default="insight", help="the databases are NAME-TICKETS.sqlite in --dir")
    parser.add_argument("--explain", action="store_true", help="print the query plan of each statement printed")
    parser.add_argument("--pages", nargs="+", help="only the pages whose label starts with one of these")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for tickets in args.tickets:
        path = args.dir / f"{args.name}-{tickets}.sqlite"
        if args.rebuild or not path.exists():
            print(f"Building {path} ({tickets:,} tickets) …", flush=True)
            print(f"  built in {build(path, tickets):.0f} s", flush=True)
        rows += measure(path, args.repeat, args.sql, args.explain, args.pages)
    print("\n     tickets  page                  median (s)  SQL (s)")
    for row in rows:
        print(f"{row['tickets']:>12,}  {row['label']:<20}  {row['median']:>10.3f}  {row['sql_total']:>7.3f}")


if __name__ == "__main__":
    main()
