"""Two schedulers at work on one database, SIGKILLed 25 times at random, one supervisor's mailbox
refusing every message: no message to a good mailbox is lost, each kill repeats at most the one
message it interrupted (with that message's Message-ID), the refusing mailbox is tried once per
message and repeats nothing for anyone else, and every in-app notice is kept — its own included.

The database is SQLite (a file) on the default run and a throw-away PostgreSQL database when
TEST_DATABASE_URL names PostgreSQL. Set CRASH_TEST_SEED to replay a run's kill timings.
"""

import os
import random
import signal
import time

from tests.scheduling_processes.support import (
    REFUSING,
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

DIGESTS, SURVEYS, WARNINGS = 300, 60, 60
KILLS = 25
AT_ACCEPTANCE = {4, 11, 18}  # these rounds kill both processes the moment the SMTP server accepts a message


class Schedulers:
    """Two scheduler processes; a killed one is started again at once."""

    def __init__(self, url, port, logs):
        self.args, self.logs = (url, port), logs
        self.processes = [start_scheduler(url, port, log) for log in logs]

    def restart(self, n: int) -> None:
        stop(self.processes[n])
        self.processes[n] = start_scheduler(*self.args, self.logs[n])

    def stop_all(self) -> None:
        for process in self.processes:
            stop(process)

    def tails(self) -> str:
        return "\n\n".join(log_tail(log) for log in self.logs)


def _kill_at_random(schedulers, sink, rng) -> int:
    """SIGKILL one of the two while it sends; 0 when nothing was being sent any more."""
    before = sink.total
    if not wait_until(lambda: sink.total > before, timeout=20):
        return 0
    time.sleep(rng.uniform(0, 0.2))  # somewhere in claiming, rendering, sending or committing
    n = rng.randrange(2)
    schedulers.processes[n].send_signal(signal.SIGKILL)
    schedulers.processes[n].wait(timeout=10)
    schedulers.restart(n)
    return 1


def _kill_both_on_acceptance(schedulers, sink) -> int:
    pids = [process.pid for process in schedulers.processes]
    sink.kill_on_accept(*pids)
    try:
        if not wait_until(lambda: all(process.poll() is not None for process in schedulers.processes), timeout=20):
            return 0
    finally:
        sink.kill_on_accept()
    for process in schedulers.processes:
        assert process.returncode == -signal.SIGKILL, schedulers.tails()
    schedulers.restart(0)
    schedulers.restart(1)
    return 2


def test_killed_schedulers_lose_nothing_and_a_refusing_mailbox_repeats_nothing(tmp_path, capsys):
    seed = int(os.environ.get("CRASH_TEST_SEED") or time.time_ns() % 1_000_000)
    rng = random.Random(seed)
    with process_database(tmp_path) as url, mail_sink(refused=frozenset({REFUSING})) as (sink, port):
        migrate(url)
        expected = seed_reminders(url, digests=DIGESTS, surveys=SURVEYS, warnings=WARNINGS, refusing=True)
        inspector = Inspector(url)
        schedulers = Schedulers(url, port, [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"])
        try:
            started, kills, round_ = time.monotonic(), 0, 0
            while kills < KILLS and inspector.unsent():
                at_acceptance = round_ in AT_ACCEPTANCE and kills <= KILLS - 2
                landed = _kill_both_on_acceptance(schedulers, sink) if at_acceptance else None
                kills += landed if landed is not None else _kill_at_random(schedulers, sink, rng)
                round_ += 1
                if round_ > 3 * KILLS:
                    break
            left_after_kills = inspector.unsent()
            assert wait_until(lambda: inspector.unsent() == 0, timeout=120), schedulers.tails()
            time.sleep(1)  # room for a late copy to arrive before counting
            elapsed = time.monotonic() - started
        finally:
            schedulers.stop_all()
        try:
            lost = set(expected) - set(sink.received)
            unexpected = set(sink.received) - set(expected)
            repeats = {message_id: n - 1 for message_id, n in sink.received.items() if n > 1}
            deliveries = inspector.deliveries()
            refused = {key: n for key, n in deliveries.items() if key[0] == REFUSING}
            notices = inspector.notifications()
            wanted_notices = inspector.expected_notifications()

            assert lost == set(), "messages to good mailboxes lost"
            assert unexpected == set(), "unexpected e-mails"
            assert sum(repeats.values()) <= kills  # each kill interrupts at most one accepted-but-uncommitted message
            assert set(sink.killed_at) <= set(repeats)  # …and such a repeat carries the first copy's Message-ID
            # The refusing mailbox: each of its messages tried once (a 550 is final) and failed, nobody else touched.
            assert refused == {(REFUSING, "failed", 1): WARNINGS}
            assert sink.refusals[REFUSING] <= WARNINGS + kills
            assert notices == dict.fromkeys(wanted_notices, 1)  # every in-app notice kept, once
            assert inspector.statuses() == {"sent": len(set(expected.values()))}
            assert kills >= KILLS * 3 // 4, "too few kills landed mid-dispatch: add reminders"
        finally:
            inspector.close()

    report(
        capsys,
        f"crash safety, two schedulers ({url.split(':')[0]}): {len(set(expected.values()))} reminders, "
        f"{len(expected)} messages to good mailboxes, {WARNINGS} to a refusing one; {kills} SIGKILLs "
        f"({kills - 2 * len(sink.killed_at)} at random points, {2 * len(sink.killed_at)} right after the SMTP "
        f"server accepted a message); {left_after_kills} left for the end. Lost: {len(lost)}. Repeats: "
        f"{sum(repeats.values())} (at most one per kill), 0 caused by the refusing mailbox, whose {WARNINGS} "
        f"messages each failed after one try. In-app notices kept: {len(notices)} of {len(wanted_notices)}. "
        f"{elapsed:.0f} s, seed {seed}.",
    )
