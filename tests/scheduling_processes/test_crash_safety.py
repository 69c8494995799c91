"""A scheduler killed with SIGKILL at random points while dispatching, then restarted, loses no
reminder and sends none twice — except when the kill falls between the SMTP server accepting a
message and the commit; that repeat carries the same Message-ID, and the test reports how often.

The database is SQLite (a file) on the default run and a throw-away PostgreSQL database when
TEST_DATABASE_URL names PostgreSQL. Set CRASH_TEST_SEED to replay a run's kill timings.
"""

import os
import random
import signal
import time

from tests.scheduling_processes.support import (
    Inspector,
    log_tail,
    mail_sink,
    migrate,
    process_database,
    report,
    seed_reminders,
    start_scheduler,
    stop,
    wait_until,
)

DIGESTS, SURVEYS = 600, 100
RANDOM_KILLS = 20
KILL_ON_ACCEPT = {5, 12, 19}  # these rounds kill the process the moment the SMTP server accepts a message
ROUNDS = RANDOM_KILLS + len(KILL_ON_ACCEPT)


def _kill_one_scheduler(run, rng, at_acceptance: bool) -> bool:
    """Start a scheduler, SIGKILL it mid-dispatch; False when it never got to send anything."""
    process = start_scheduler(*run["args"])
    try:
        if at_acceptance:
            run["sink"].kill_on_accept(process.pid)
            if not wait_until(lambda: process.poll() is not None, timeout=20):
                return False
        else:
            before = run["sink"].total
            if not wait_until(lambda: run["sink"].total > before or process.poll() is not None, timeout=20):
                return False
            time.sleep(rng.uniform(0, 0.3))  # somewhere in claiming, rendering, sending or committing
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL, log_tail(run["log"])
        return True
    finally:
        run["sink"].kill_on_accept(None)
        stop(process)


def test_killed_schedulers_lose_no_reminder_and_repeat_only_accepted_mail(tmp_path, capsys):
    seed = int(os.environ.get("CRASH_TEST_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    log = tmp_path / "scheduler.log"
    with process_database(tmp_path) as url, mail_sink() as (sink, port):
        migrate(url)
        expected = seed_reminders(url, digests=DIGESTS, surveys=SURVEYS)
        inspector = Inspector(url)
        run = {"args": (url, port, log), "sink": sink, "log": log}
        try:
            started = time.monotonic()
            kills = sum(
                _kill_one_scheduler(run, rng, at_acceptance=round_ in KILL_ON_ACCEPT)
                for round_ in range(ROUNDS)
                if inspector.unsent()
            )
            left_after_kills = inspector.unsent()
            final = start_scheduler(*run["args"])
            try:
                assert wait_until(lambda: inspector.unsent() == 0, timeout=90), log_tail(log)
            finally:
                stop(final)
            elapsed = time.monotonic() - started

            assert inspector.statuses() == {"sent": len(expected)}
            assert set(expected) - set(sink.received) == set(), "reminders lost"
            assert set(sink.received) - set(expected) == set(), "unexpected e-mails"
            assert inspector.notifications() == dict.fromkeys(inspector.expected_notifications(), 1)
            repeats = {message_id: n - 1 for message_id, n in sink.received.items() if n > 1}
            # Each kill can interrupt at most one accepted-but-uncommitted message.
            assert sum(repeats.values()) <= kills
            # A kill right after the SMTP server accepted a message repeats it, with the same Message-ID.
            assert set(sink.killed_at) <= set(repeats)
        finally:
            inspector.close()

    in_window = sum(repeats.values()) - len(sink.killed_at)
    report(
        capsys,
        f"crash safety ({url.split(':')[0]}): {len(expected)} reminders, {kills} SIGKILLs "
        f"({kills - len(sink.killed_at)} at random points while dispatching, {len(sink.killed_at)} "
        f"right after the SMTP server accepted a message); {left_after_kills} left for the final run. "
        f"None lost. Repeated e-mails, each with its first copy's Message-ID: {sum(repeats.values())} — "
        f"{in_window} because a random kill fell between SMTP acceptance and commit, "
        f"{len(sink.killed_at)} by the acceptance kills. {elapsed:.0f} s, seed {seed}.",
    )
    assert kills >= ROUNDS * 3 // 4, "too few kills landed mid-dispatch: add reminders"
