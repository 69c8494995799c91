"""How long one dispatcher pass takes, with 10,000 and with 1,000,000 tickets in the database.

    .venv/bin/python bench/dispatch_pass.py
    .venv/bin/python bench/dispatch_pass.py --tickets 10000 1000000 --due 1000 10 --dir /tmp/ticketing-bench
    .venv/bin/python bench/dispatch_pass.py --tickets 1000000 --due 10 --retention 7

Each size gets a SQLite database (built once, kept in --dir; --rebuild builds it again) holding a
desk's history: the tickets, mostly closed, each with a sent reminder and its notification, and a
steady workload of OPEN_CASES open cases shared by the agents. Every measurement then adds the
given number of due reminders (follow-ups due, missed deadlines, satisfaction surveys, daily
digests) and times one dispatch_due() pass. E-mail is off (no SMTP_HOST): in-app delivery only.
The pass must cost in proportion to the reminders due, not to the tickets stored. Besides the
wall-clock time it prints the CPU time of the pass (this process only), which other work on a shared
machine disturbs less.

--retention DAYS then runs the reminder-retention job's work (scheduling/retention.py) with that
period on the database, and prints the reminder rows per case before and after, and how long it took
(it removes rows: the database keeps them removed).
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import Config
from ticketing import create_app
from ticketing.auth.models import User
from ticketing.cases.models import (
    Customer,
    Reminder,
    Ticket,
)
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.notify.models import Notification
from ticketing.scheduling.dispatcher import dispatch_due

OPEN_CASES = 5_000
AGENTS, SUPERVISORS, CUSTOMERS = 25, 3, 2_000
CHUNK = 20_000
# Share of each kind among the reminders due in a measurement.
MIX = (
    ("follow_up_due", 0.4),
    ("response_breached", 0.2),
    ("resolution_breached", 0.2),
    ("satisfaction_survey", 0.1),
    ("daily_digest", 0.1),
)


def bench_app(path: Path):
    config = type(
        "BenchConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SMTP_HOST": None,
            "APP_ENV": "development",  # made-up keys: a benchmark's database, not an installation
        },
    )
    return create_app(config)


def _chunks(rows, size=CHUNK):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def build(path: Path, tickets: int) -> float:
    """A database with `tickets` tickets; returns the seconds it took."""
    from flask_migrate import upgrade

    started = time.perf_counter()
    path.unlink(missing_ok=True)
    app = bench_app(path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:  # committed chunk by chunk, so the WAL stays small
            conn.execute(text("PRAGMA synchronous=OFF"))
            staff = _insert_staff(conn)
            _insert_customers(conn)
            _insert_tickets(conn, tickets, staff)
            _insert_history(conn, staff)
        db.engine.dispose()
    return time.perf_counter() - started


def _insert_staff(conn) -> dict:
    rows = [
        dict(email=f"supervisor{n}@example.com", name=f"Supervisor {n}", role="supervisor") for n in range(SUPERVISORS)
    ]
    rows += [dict(email=f"agent{n}@example.com", name=f"Agent {n}", role="agent") for n in range(AGENTS)]
    conn.execute(insert(User), [dict(row, password_hash="!") for row in rows])
    conn.commit()
    return {
        "agents": list(conn.scalars(select(User.id).where(User.role == "agent").order_by(User.id))),
        "supervisors": list(conn.scalars(select(User.id).where(User.role == "supervisor"))),
    }


def _insert_customers(conn) -> None:
    conn.execute(
        insert(Customer), [dict(name=f"Customer {n}", email=f"customer{n}@example.com") for n in range(CUSTOMERS)]
    )
    conn.commit()


def _insert_tickets(conn, tickets: int, staff: dict) -> None:
    """The oldest cases closed, the newest OPEN_CASES open and past their deadlines."""
    now = utcnow()
    agents = staff["agents"]
    open_from = max(tickets - OPEN_CASES, 0)
    deadline = now - timedelta(hours=1)
    statement = insert(Ticket)
    for start in range(0, tickets, CHUNK):
        rows = []
        for n in range(start, min(start + CHUNK, tickets)):
            opened = now - timedelta(minutes=(tickets - n))
            row = dict(
                reference=f"C-B-{n + 1:07d}",
                customer_id=n % CUSTOMERS + 1,
                subject="Leaking kettle",
                description="The kettle leaks after two days.",
                channel="phone",
                category=None,
                product=None,
                priority="normal",
                priority_rank=2,
                assignee_id=agents[n % len(agents)],
                created_by_id=None,
                updated_by_id=None,
                created_at=opened,
                updated_at=opened,
                response_due_at=opened + timedelta(hours=8),
                resolution_due_at=opened + timedelta(hours=72),
                analysed_at=None,
                promised_date=None,
                clock_paused_at=None,
                review_due_at=None,
                review_recorded_at=None,
                merged_into_id=None,
                version=1,
            )
            if n < open_from:
                row.update(
                    step="review",
                    status="closed",
                    resolution_state="carried_out",
                    responded_at=opened,
                    follow_up_due_at=None,
                    closed_at=opened + timedelta(days=3),
                )
            else:
                row.update(
                    step="listen",
                    status="open",
                    resolution_state="none",
                    responded_at=None,
                    response_due_at=deadline,
                    resolution_due_at=deadline,
                    follow_up_due_at=deadline,
                    closed_at=None,
                )
            rows.append(row)
        conn.execute(statement, rows)
        conn.commit()


def _insert_history(conn, staff: dict) -> None:
    """Every closed case had a follow-up reminder, sent, with its in-app notification."""
    last_closed = conn.scalar(select(func.max(Ticket.id)).where(Ticket.status == "closed")) or 0
    agents = staff["agents"]
    for start in range(1, last_closed + 1, CHUNK):
        ids = range(start, min(start + CHUNK, last_closed + 1))
        sent_at = utcnow() - timedelta(days=30)
        conn.execute(
            insert(Reminder),
            [
                dict(
                    key=f"follow_up_due:{n}:0:{agents[(n - 1) % len(agents)]}",
                    kind="follow_up_due",
                    ticket_id=n,
                    user_id=agents[(n - 1) % len(agents)],
                    audience="assignee",
                    due_at=sent_at,
                    run_at=sent_at,
                    status="sent",
                    attempts=1,
                    claimed_by="history",
                    claimed_at=sent_at,
                    sent_at=sent_at,
                    last_error=None,
                    created_at=sent_at,
                )
                for n in ids
            ],
        )
        first = conn.scalar(select(Reminder.id).where(Reminder.ticket_id == start, Reminder.status == "sent"))
        conn.execute(
            insert(Notification),
            [
                dict(
                    user_id=agents[(n - 1) % len(agents)],
                    reminder_id=first + i,
                    ticket_id=n,
                    kind="follow_up_due",
                    details={},
                    created_at=sent_at,
                    read_at=sent_at,
                )
                for i, n in enumerate(ids)
            ],
        )
        conn.commit()


def add_due(count: int, label: str) -> int:
    """`count` reminders due now, each one the case still needs; returns how many were added."""
    now = utcnow()
    kinds = [kind for kind, share in MIX for _ in range(round(count * share))][:count]
    kinds += ["follow_up_due"] * (count - len(kinds))
    ticket_kinds = [kind for kind in kinds if kind != "daily_digest"]
    fresh = db.session.execute(
        select(Ticket.id, Ticket.assignee_id, Ticket.follow_up_due_at, Ticket.response_due_at, Ticket.resolution_due_at)
        .where(Ticket.status == "open", ~select(Reminder.id).where(Reminder.ticket_id == Ticket.id).exists())
        .order_by(Ticket.id)
        .limit(len(ticket_kinds))
    ).all()
    if len(fresh) < len(ticket_kinds):
        raise SystemExit("The open cases are used up: run again with --rebuild.")
    staff = list(db.session.scalars(select(User.id).order_by(User.id)))
    rows = [_ticket_reminder(kind, ticket, label) for kind, ticket in zip(ticket_kinds, fresh)]
    rows += [
        dict(
            key=f"daily_digest:{staff[n % len(staff)]}:{label}-{n}",
            kind="daily_digest",
            ticket_id=None,
            user_id=staff[n % len(staff)],
            audience="user",
            due_at=now,
        )
        for n in range(kinds.count("daily_digest"))
    ]
    db.session.execute(
        insert(Reminder),
        [dict(row, run_at=row["due_at"], status="pending", attempts=0, created_at=now) for row in rows],
    )
    db.session.commit()
    return len(rows)


def _ticket_reminder(kind: str, ticket, label: str) -> dict:
    """The reminder exactly as sync_reminders would have made it (same key), so it is still needed."""
    tid, assignee, follow_up, response, resolution = ticket
    if kind == "satisfaction_survey":
        return dict(
            key=f"satisfaction_survey:{tid}:{label}",
            kind=kind,
            ticket_id=tid,
            user_id=None,
            audience="customer",
            due_at=utcnow(),
        )
    due, owner = {
        "follow_up_due": (follow_up, assignee),
        "response_breached": (response, None),
        "resolution_breached": (resolution, None),
    }[kind]
    return dict(
        key=f"{kind}:{tid}:{int(due.timestamp())}:{owner or 'supervisors'}",
        kind=kind,
        ticket_id=tid,
        user_id=owner,
        audience="assignee" if owner else "supervisors",
        due_at=due,
    )


def measure(path: Path, due: int, label: str, profile: int = 0) -> dict:
    app = bench_app(path)
    with app.app_context():
        add_due(2, f"{label}-warm")
        dispatch_due(utcnow())  # warm up: imports, compiled statements, the page cache
        added = add_due(due, label)
        now = utcnow()
        profiler = cProfile.Profile() if profile else None
        started, cpu = time.perf_counter(), time.process_time()
        result = profiler.runcall(dispatch_due, now) if profiler else dispatch_due(now)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
            if os.environ.get("PROFILE_CALLERS"):
                pstats.Stats(profiler).sort_stats("tottime").print_callers(os.environ["PROFILE_CALLERS"])
        tickets = db.session.scalar(select(func.count(Ticket.id)))
        db.session.remove()
        db.engine.dispose()
    assert result.sent + result.skipped == added and not (result.cancelled or result.failed), result.summary()
    return {"tickets": tickets, "due": added, "seconds": seconds, "cpu": cpu, "result": result}


def retention(path: Path, days: int) -> None:
    """Reminder rows per case before and after the retention job's work with a `days` period."""
    from ticketing.scheduling.retention import remove_old_reminders

    app = bench_app(path)
    with app.app_context():
        tickets = db.session.scalar(select(func.count(Ticket.id)))
        before = db.session.scalar(select(func.count(Reminder.id)))
        started = time.perf_counter()
        removed = remove_old_reminders(utcnow(), days)
        seconds = time.perf_counter() - started
        after = db.session.scalar(select(func.count(Reminder.id)))
        notices = db.session.scalar(select(func.count(Notification.id)))
        db.session.remove()
        db.engine.dispose()
    print(
        f"{tickets:>12,} tickets, retention {days} days: {before:,} reminder rows ({before / tickets:.3f} per case) "
        f"-> {after:,} ({after / tickets:.3f} per case); {removed.reminders:,} removed in {removed.batches:,} "
        f"batches, {seconds:.1f} s; {notices:,} in-app notices kept ({removed.notices_unlinked:,} unlinked)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--due", type=int, nargs="+", default=[1_000, 10])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench"))
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument("--retention", type=int, metavar="DAYS", help="then remove reminder rows older than DAYS")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile's top N of each timed pass")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for tickets in args.tickets:
        path = args.dir / f"tickets-{tickets}.sqlite"
        if args.rebuild or not path.exists():
            print(f"Building {path} ({tickets:,} tickets) …", flush=True)
            print(f"  built in {build(path, tickets):.0f} s", flush=True)
        for due in args.due:
            rows.append(measure(path, due, label=f"bench-{time.time_ns()}", profile=args.profile))
            row = rows[-1]
            print(
                f"{row['tickets']:>12,} tickets {row['due']:>6,} due: {row['seconds']:8.3f} s per pass "
                f"({row['cpu']:.3f} s CPU), {row['due'] / row['seconds']:8,.0f} reminders/s  "
                f"({row['result'].summary()})",
                flush=True,
            )
        if args.retention is not None:
            retention(path, args.retention)
    print("\n     tickets    due   pass (s)    CPU (s)  reminders/s  ms per reminder")
    for row in rows:
        print(
            f"{row['tickets']:>12,} {row['due']:>6,} {row['seconds']:>10.3f} {row['cpu']:>10.3f}"
            f" {row['due'] / row['seconds']:>12,.0f} {1000 * row['seconds'] / row['due']:>16.2f}"
        )


if __name__ == "__main__":
    main()
