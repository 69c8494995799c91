"""Where the record log's bytes are: per case, the events' `changes` and `records` (sealed snapshots),
and how much of them repeats what is already stored elsewhere in the log.

    .venv/bin/python bench/log_bytes.py /tmp/ticketing-bench/desk-10000.sqlite

Two repetitions are counted, in JSON bytes: a `changes` entry whose new value is the value the same
event's snapshot holds for that column, and a column a later event snapshots again unchanged (the
record's previous snapshot in the log had the same value).
"""

import argparse
import json
import sqlite3


def measure(path: str) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    cases = conn.execute("SELECT count(DISTINCT ticket_id) FROM events").fetchone()[0] or 1
    totals = dict(changes=0, records=0, repeated_in_changes=0, snapshotted_again=0)
    last_snapshot: dict[str, dict] = {}
    for changes_text, records_text in conn.execute("SELECT changes, records FROM events ORDER BY id"):
        changes = json.loads(changes_text or "{}") or {}
        records = (json.loads(records_text) if records_text else None) or {}
        totals["changes"] += len(json.dumps(changes))
        totals["records"] += len(json.dumps(records))
        written = {}
        for key, snapshot in records.items():
            written.update(snapshot)
            before = last_snapshot.get(key, {})
            totals["snapshotted_again"] += sum(
                len(json.dumps({column: value}))
                for column, value in snapshot.items()
                if column in before and before[column] == value
            )
            last_snapshot[key] = snapshot
        totals["repeated_in_changes"] += sum(
            len(json.dumps({field: pair}))
            for field, pair in changes.items()
            if field in written and isinstance(pair, list) and len(pair) == 2 and pair[1] == written[field]
        )
    conn.close()
    return {name: value / cases for name, value in totals.items()} | {"cases": cases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    figures = measure(parser.parse_args().database)
    print(f"{figures['cases']:,} cases; bytes of JSON per case:")
    for name in ("changes", "records", "repeated_in_changes", "snapshotted_again"):
        print(f"  {name:<22} {figures[name]:>8,.0f}")


if __name__ == "__main__":
    main()
