"""Two scheduler processes running at once against one PostgreSQL database deliver every
reminder exactly once (claims use SELECT … FOR UPDATE SKIP LOCKED). PostgreSQL run only.

The second process starts while the first is in the middle of a pass that lasts longer than the
lease, so a claim stamped with the pass's start time would look expired and be taken twice."""

import time

import pytest

from tests.scheduling_processes.support import (
    Inspector,
    log_tail,
    mail_sink,
    migrate,
    on_postgres,
    process_database,
    report,
    seed_reminders,
    start_scheduler,
    stop,
    wait_until,
)

DIGESTS, SURVEYS = 500, 100


def test_two_schedulers_deliver_every_reminder_exactly_once(tmp_path, capsys):
    if not on_postgres():
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://…")
    logs = [tmp_path / "scheduler-1.log", tmp_path / "scheduler-2.log"]
    with process_database(tmp_path) as url, mail_sink() as (sink, port):
        migrate(url)
        expected = seed_reminders(url, digests=DIGESTS, surveys=SURVEYS)
        inspector = Inspector(url)
        processes = []
        try:
            started = time.monotonic()
            processes = [start_scheduler(url, port, logs[0])]
            # The second joins while the first is well into a pass longer than the lease.
            assert wait_until(lambda: sink.total >= len(expected) // 4, timeout=60), log_tail(logs[0])
            processes.append(start_scheduler(url, port, logs[1]))
            done = wait_until(lambda: inspector.unsent() == 0, timeout=120)
            elapsed = time.monotonic() - started
            assert done, "\n\n".join(log_tail(log) for log in logs)
            time.sleep(2)  # room for a late second copy to arrive before counting
            assert all(process.poll() is None for process in processes), "a scheduler stopped on its own"
            workers = inspector.claimers()

            assert inspector.statuses() == {"sent": len(set(expected.values()))}
            assert {message_id: sink.received[message_id] for message_id in expected} == dict.fromkeys(expected, 1)
            assert set(sink.received) == set(expected), "unexpected e-mails"
            assert inspector.notifications() == dict.fromkeys(inspector.expected_notifications(), 1)
            assert len(workers) == 2, f"only {workers} claimed reminders: the processes did not overlap"
        finally:
            for process in processes:
                stop(process)
            inspector.close()
    report(
        capsys,
        f"two schedulers (PostgreSQL): {len(expected)} reminders, each sent exactly once, "
        f"{' + '.join(str(n) for n in workers.values())} by the two processes, in {elapsed:.1f} s.",
    )
