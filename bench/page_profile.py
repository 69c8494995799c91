"""Where a desk page's time goes, in one process: CPU per page, SQL statements and their time, cProfile.

    .venv/bin/python bench/page_profile.py                                  # the queue, team view and case pages
    .venv/bin/python bench/page_profile.py --pages queue --requests 200 --profile 30
    .venv/bin/python bench/page_profile.py --pages case --sql                # one case page's statements

On the database bench/desk_data.py built (`--tickets`, kept in `--dir`; build it with bench/desk.py or
desk_data.py first), with bench/desk_server.py's settings and CSRF off, through Flask's test client signed
in as the bench agent (my cases, the case pages) or the bench supervisor (the team view). Each page is
asked `--warm` times untimed, then `--rounds` rounds of `--requests`: CPU milliseconds per page
(time.process_time), the best round and the median (on a shared machine other work only ever adds time,
so the best round is the page's own cost most nearly), SQL statements per page and the
share of the time spent in the driver. The case pages cycle through the same open and closed cases as
bench/desk.py's. No gunicorn and no sockets: the figure is the page's own work, which is what a worker
spends on it.
"""

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import desk
import desk_data
from desk_server import bench_config

from ticketing import create_app
from ticketing.extensions import db


def references(path: Path) -> list[str]:
    """Open and closed cases taken as bench/desk.py's case family takes them, alternating."""
    picked = desk.context(path, path.with_suffix(".token"))
    return [ref for pair in zip(picked["open"], picked["closed"]) for ref in pair]


PAGES = {
    "queue": (desk_data.AGENT, lambda refs, n: "/queue"),
    "team": (desk_data.SUPERVISOR, lambda refs, n: "/queue?view=team"),
    "case": (desk_data.AGENT, lambda refs, n: f"/tickets/{refs[n % len(refs)]}"),
    # The floor under every staff page: the session, the signed-in user, one count (the bell's poll) …
    "bell": (desk_data.AGENT, lambda refs, n: "/notifications/unread"),
    # … and a page with the top bar and one small form.
    "account": (desk_data.AGENT, lambda refs, n: "/account"),
}


class Statements:
    """Counts the statements the engine runs and the time spent in the driver's execute."""

    def __init__(self, engine, keep: bool = False):
        self.keep = keep
        self.reset()
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        self.count, self.seconds, self.texts = 0, 0.0, []

    def _before(self, conn, cursor, statement, params, context, many):
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, many):
        self.count += 1
        self.seconds += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        if self.keep:
            self.texts.append(" ".join(statement.split())[:160])


def run(app, name: str, refs, statements: Statements, args) -> None:
    email, path_of = PAGES[name]
    client = app.test_client()
    answer = client.post("/login", data={"email": email, "password": desk_data.PASSWORD})
    assert answer.status_code == 302, answer.status_code
    for n in range(args.warm):
        assert client.get(path_of(refs, n)).status_code == 200
    statements.reset()
    profiler = cProfile.Profile() if args.profile else None
    counter = cProfile.Profile()  # one untimed round counted: the calls a page makes, whatever the load
    counter.enable()
    for n in range(args.requests):
        client.get(path_of(refs, n))
    counter.disable()
    calls = sum(entry.callcount for entry in counter.getstats()) / args.requests
    statements.reset()
    rounds = []  # CPU ms a page in each round: the machine's other work only ever adds to a round
    if profiler:
        profiler.enable()
    for _round in range(args.rounds):
        cpu = time.process_time()
        for n in range(args.requests):
            answer = client.get(path_of(refs, n))
            assert answer.status_code == 200, (path_of(refs, n), answer.status_code)
        rounds.append((time.process_time() - cpu) / args.requests * 1000)
    if profiler:
        profiler.disable()
    per = args.requests * args.rounds
    rounds.sort()
    print(
        f"{name:7} {args.rounds} × {args.requests} pages: CPU ms a page best {rounds[0]:.2f}, "
        f"median {rounds[len(rounds) // 2]:.2f}; {calls:,.0f} function calls, "
        f"{statements.count / per:.1f} SQL statements a page, "
        f"{statements.seconds / per * 1000:.2f} ms in the driver{' (profiled: slower)' if profiler else ''}"
    )
    if args.sql:
        for text in statements.texts[: round(statements.count / per)]:
            print("   ", text)
    if profiler:
        if args.dump:
            profiler.dump_stats(args.dump)
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.profile)
        stats.sort_stats("cumulative").print_stats(args.profile)


# The queue's row markup (templates/desk/queue.html, the team view) with every value a ready string: no
# function call, no attribute of a model, no translation. What Jinja alone costs for a page of rows.
ROWS = """{%- for t in rows %}
<tr{% if t.late %} class="row-late"{% endif %}>
  <td class="pick"><input type="checkbox" form="bulk" name="cases" value="{{ t.pick }}"
    aria-label="{{ t.select }}"></td>
  <td data-label="{{ L.case }}"><a href="{{ t.href }}"><strong>{{ t.reference }}</strong></a>
    {% if t.triage %}<span class="badge attention">{{ L.triage }}</span>{% endif %}<br>{{ t.subject }}</td>
  <td data-label="{{ L.customer }}">{{ t.customer }}
    {%- if t.tier %} <span class="badge tier">{{ t.tier }}</span>{% endif %}</td>
  <td data-label="{{ L.step }}">{{ t.step }}</td>
  <td data-label="{{ L.priority }}"><span class="badge priority-{{ t.priority }}">{{ t.priority_label }}</span></td>
  <td data-label="{{ L.assignee }}">{{ t.assignee }}</td>
  <td data-label="{{ L.response }}"><time datetime="{{ t.response_iso }}">{{ t.response }}</time></td>
  <td data-label="{{ L.resolution }}"><time datetime="{{ t.resolution_iso }}">{{ t.resolution }}</time></td>
  <td data-label="{{ L.opened }}"><time datetime="{{ t.opened_iso }}" title="{{ t.opened }}">{{ t.age }}</time></td>
  <td data-label="{{ L.updated }}"><time datetime="{{ t.updated_iso }}">{{ t.updated }}</time></td>
  <td data-label="{{ L.status }}"><span class="badge status-{{ t.status }}">{{ t.status_label }}</span>
    {%- for p in t.pressing %} <span class="badge {{ p.css }}" title="{{ p.title }}">{{ p.label }}</span>
    {%- endfor %}</td>
</tr>
{%- endfor %}"""


def rows_floor(app, rows: int, args) -> None:
    """Jinja's own cost for a queue page's rows, every value computed beforehand."""
    words = "case customer step priority assignee response resolution opened updated status triage".split()
    row = {
        "late": True,
        "pick": "9876:3",
        "select": "Select C-2026-009876",
        "href": "/tickets/C-2026-009876",
        "reference": "C-2026-009876",
        "triage": False,
        "subject": "Parcel arrived damaged, second time this month",
        "customer": "Zhang Wei",
        "tier": "VIP",
        "step": "Analyse the cause",
        "priority": "high",
        "priority_label": "High",
        "assignee": "Ann Agent",
        "response_iso": "2026-12-01T08:20:00+00:00",
        "response": "1 Dec 2026, 16:20",
        "resolution_iso": "2026-12-02T08:20:00+00:00",
        "resolution": "2 Dec 2026, 16:20",
        "opened_iso": "2026-11-30T08:20:00+00:00",
        "opened": "30 Nov 2026, 16:20",
        "age": "3 days ago",
        "updated_iso": "2026-12-01T09:00:00+00:00",
        "updated": "1 Dec 2026, 17:00",
        "status": "open",
        "status_label": "Open",
        "pressing": [{"css": "overdue", "title": "Resolution due: 2 Dec 2026, 16:20", "label": "Resolution overdue"}],
    }
    template = app.jinja_env.from_string(ROWS)
    values = {"rows": [dict(row) for _ in range(rows)], "L": {word: word.title() for word in words}}
    for _ in range(args.warm):
        template.render(**values)
    best = []
    for _round in range(args.rounds):
        cpu = time.process_time()
        for _ in range(args.requests):
            template.render(**values)
        best.append((time.process_time() - cpu) / args.requests * 1000)
    best.sort()
    print(
        f"rows    {rows} queue rows, every value a ready string, Jinja alone: CPU ms best {best[0]:.2f}, "
        f"median {best[len(best) // 2]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench"))
    parser.add_argument("--pages", default="queue,team,case", help=f"comma-separated: {','.join(PAGES)},rows")
    parser.add_argument("--requests", type=int, default=50, help="pages in a round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds: the best and the median are printed")
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N functions")
    parser.add_argument("--dump", type=Path, help="also write the profile to this file (pstats)")
    parser.add_argument("--sql", action="store_true", help="list one page's statements")
    parser.add_argument("--locale", default="en", help="the reader's language: en or zh_CN")
    args = parser.parse_args()
    path = args.dir / f"desk-{args.tickets}.sqlite"
    if not path.exists():
        sys.exit(f"{path} is not built: run bench/desk_data.py --tickets {args.tickets} first")
    app = create_app(bench_config(path, WTF_CSRF_ENABLED=False, BABEL_DEFAULT_LOCALE=args.locale))
    refs = references(path)
    with app.app_context():
        statements = Statements(db.engine, keep=args.sql)
    for name in [part.strip() for part in args.pages.split(",") if part.strip()]:
        if name == "rows":
            rows_floor(app, app.config["QUEUE_PAGE_SIZE"], args)
        else:
            run(app, name, refs, statements, args)


if __name__ == "__main__":
    main()
