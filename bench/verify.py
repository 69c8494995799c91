"""`flask audit verify` at size: a full check's events/s, the daily check's seconds, the anchors' bytes.

    .venv/bin/python bench/verify.py --tickets 10000
    .venv/bin/python bench/verify.py --tickets 1000000 --changed 1000 --dir /tmp/ticketing-bench-verify

On the desk benchmark's database (bench/desk_data.py: realistic cases with their records and a sealed
log of ~11 events each), built in its own --dir because the run adds to it: a full verify (which
leaves a checkpoint), a full anchor; then one day's work — a note on each of `--changed` cases
picked at random, through the real service, so each is an event sealing a new record — the daily
check (`--since-last`), the day's incremental anchor, and the check of the anchors' folder.
"""

import argparse
import random
import shutil
import sys
import time
from datetime import timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import desk_data  # noqa: E402  (the desk benchmark's database)
from sqlalchemy import func, select  # noqa: E402

from ticketing.auth.models import User  # noqa: E402
from ticketing.cases import anchors, checkpoints, services  # noqa: E402
from ticketing.cases.audit import Event  # noqa: E402
from ticketing.cases.models import Ticket  # noqa: E402
from ticketing.clock import utcnow  # noqa: E402
from ticketing.extensions import db  # noqa: E402


def timed(work):
    """(work's result, wall seconds, CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def verify(now, since_last: bool, jobs: int = 1):
    outcome, wall, cpu = timed(lambda: checkpoints.verify_log(now, since_last=since_last, jobs=jobs))
    db.session.commit()
    assert outcome.broken is None, outcome.broken
    return outcome, wall, cpu


def a_day_of_notes(changed: int, seed: int = 18) -> None:
    """A note on `changed` cases picked at random: each an event sealing a new record."""
    agent = db.session.scalar(select(User).where(User.email == desk_data.AGENT))
    top = db.session.scalar(select(func.max(Ticket.id)))
    for n, ticket_id in enumerate(random.Random(seed).sample(range(1, top + 1), changed)):
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is not None:
            services.add_note(ticket, agent, body=f"Called back ({n}): the customer will send the receipt.")
            db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--changed", type=int, default=1_000, help="cases changed in the simulated day")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench-verify"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="processes of each full verify timed")
    args = parser.parse_args()
    path, _token = desk_data.ensure(args.dir, args.tickets, args.rebuild, check=False)
    folder = args.dir / f"verify-anchors-{args.tickets}"
    shutil.rmtree(folder, ignore_errors=True)
    app = desk_data.bench_app(path, AUDIT_ANCHOR_DIR=str(folder))
    with app.app_context():
        now = utcnow()
        events = db.session.scalar(select(func.count(Event.id)))
        print(f"{args.tickets:,} cases, {events:,} events ({path})", flush=True)
        for jobs in args.jobs:
            outcome, wall, cpu = verify(now, since_last=False, jobs=jobs)
            own = f"{cpu:.1f} CPU s = {outcome.checked / cpu:,.0f} events per CPU second" if jobs == 1 else ""
            print(
                f"full verify, {jobs} process{'es' if jobs > 1 else ''}: {outcome.checked:,} events in {wall:.1f} s "
                f"= {outcome.checked / wall:,.0f} events/s {f'({own})' if own else ''}",
                flush=True,
            )
        full, wall, _cpu = timed(lambda: anchors.write(anchors.take(now), folder))
        print(f"full anchor: {full.stat().st_size:,} bytes, {wall:.1f} s", flush=True)

        _none, wall, _cpu = timed(lambda: a_day_of_notes(args.changed))
        print(f"a day: a note on {args.changed:,} cases ({wall:.0f} s)", flush=True)
        outcome, wall, cpu = verify(now + timedelta(days=1), since_last=True)
        print(
            f"daily check (--since-last): {outcome.cases:,} cases, {outcome.checked:,} events in {wall:.2f} s "
            f"({cpu:.2f} CPU s)",
            flush=True,
        )
        day = now + timedelta(days=1)
        daily, wall, _cpu = timed(lambda: anchors.write(anchors.take(day, anchors.newest(folder)), folder))
        heads = len(anchors.read(daily)["cases"])
        print(f"daily anchor: {daily.stat().st_size:,} bytes ({heads:,} heads), {wall:.2f} s", flush=True)
        problems, wall, _cpu = timed(lambda: anchors.check_path(folder))
        assert problems == [], problems
        print(f"check of the anchors' folder (2 anchors): {wall:.1f} s", flush=True)
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
