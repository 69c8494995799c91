"""How long the Insight dashboard takes to answer, with 100,000 and 1,000,000 tickets on SQLite.

    .venv/bin/python bench/dashboard.py
    .venv/bin/python bench/dashboard.py --tickets 100000 --repeat 5 --dir /tmp/ticketing-bench --rebuild

Each size gets a SQLite database (built once with `flask db upgrade` and bulk inserts, kept in --dir;
--rebuild builds it again) holding YEARS years of a desk's history: tickets spread over the period with
the usual mix of categories, channels, products and priorities; the older ones closed (a few cancelled
or still stuck), the recent ones at every step; with their step records (listening, apology, analysis,
resolutions with compensation lines, follow-ups with retention and churn type, reviews), a staff
message on some, and the customers' survey answers on a share of the good follow-ups; then every case's
per-case facts are written (cases/facts.py, as migration 0025's backfill does). Then the dashboard is
asked for through the test client as a logged-in supervisor, for the default period (the last 90 days),
the last year and the last three years, --repeat times each; the median is printed with the figures.
--reference computes the figures as before the facts (from the cases and records, tests/insight/reference),
for a before/after on the same machine state.
"""

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import Config
from ticketing import create_app
from ticketing.auth.models import User
from ticketing.auth.services import create_user
from ticketing.cases import facts
from ticketing.cases.catalogue import Product
from ticketing.cases.models import Customer, Message, Ticket
from ticketing.cases.records import (
    AnalysisRecord,
    ApologyRecord,
    CompensationLine,
    FollowUpRecord,
    ListenRecord,
    Resolution,
    ReviewRecord,
)
from ticketing.cases.survey import SurveyResponse
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.insight import figures
from ticketing.insight.results import display

YEARS = 3
AGENTS, CHUNK = 25, 10_000
PASSWORD = "bench password one"
SUPERVISOR = "bench-supervisor@example.com"
STEPS = ["listen", "apologise", "analyse", "resolve", "follow_up", "review"]
CATEGORIES = (
    ("product", 30),
    ("delivery", 25),
    ("billing", 12),
    ("service", 12),
    ("installation", 10),
    ("after_sales", 8),
    ("other", 3),
)
CHANNELS = (("phone", 40), ("web", 20), ("email", 15), ("wechat", 15), ("in_person", 6), ("social", 4))
CAUSES = (
    ("product", 35),
    ("service", 30),
    ("false_information", 15),
    ("customer_misuse", 12),
    ("expectation_too_high", 8),
)
PRODUCTS = [f"Product {n:02d}" for n in range(40)]
PRODUCT_WEIGHTS = [1 / (rank + 1) for rank in range(len(PRODUCTS))]  # a few products draw most complaints
PRIORITIES = (("normal", 60), ("high", 20), ("low", 15), ("urgent", 5))
HOURS = {"urgent": (1, 24), "high": (4, 48), "normal": (8, 72), "low": (24, 120)}
RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
COMPENSATION = (
    ("refund", "economic", 120),
    ("voucher", "economic", 50),
    ("repair", "economic", None),
    ("gift", "emotional", 30),
    ("apology_letter", "emotional", None),
)


def bench_app(path: Path):
    config = type(
        "BenchConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SMTP_HOST": None,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench",
            "APP_ENV": "development",  # made-up keys: a benchmark's database, not an installation
        },
    )
    return create_app(config)


def pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


class Rows:
    """The rows of one chunk of tickets, every table at once, with explicit ids."""

    def __init__(self, ids: dict):
        self.ids = ids
        self.tables = {
            model: []
            for model in (
                Ticket,
                ListenRecord,
                ApologyRecord,
                Message,
                AnalysisRecord,
                Resolution,
                CompensationLine,
                FollowUpRecord,
                ReviewRecord,
                SurveyResponse,
            )
        }

    def add(self, model, **row):
        if model in (Resolution, FollowUpRecord, CompensationLine, SurveyResponse):
            self.ids[model] = self.ids.get(model, 0) + 1
            row["id"] = self.ids[model]
        self.tables[model].append(row)
        return row.get("id")

    def insert(self, conn):
        for model, rows in self.tables.items():
            if rows:
                conn.execute(insert(model), rows)
        conn.commit()


def build(path: Path, tickets: int) -> float:
    """A database with `tickets` tickets; returns the seconds it took."""
    from flask_migrate import upgrade

    started = time.perf_counter()
    path.unlink(missing_ok=True)
    app = bench_app(path)
    with app.app_context():
        upgrade()
        create_user(email=SUPERVISOR, password=PASSWORD, role="supervisor", name="Bench Supervisor")
        db.session.commit()
        with db.engine.connect() as conn:  # committed chunk by chunk, so the WAL stays small
            conn.execute(text("PRAGMA synchronous=OFF"))
            conn.execute(
                insert(User),
                [
                    dict(email=f"agent{n}@example.com", name=f"Agent {n}", role="agent", password_hash="!")
                    for n in range(AGENTS)
                ],
            )
            agents = [row[0] for row in conn.execute(text("SELECT id FROM users WHERE role = 'agent'"))]
            customers = max(tickets * 6 // 10, 1)  # four in ten complaints come from someone who complained before
            for start in range(0, customers, CHUNK * 5):
                conn.execute(
                    insert(Customer),
                    [
                        dict(name=f"Customer {n}", email=f"customer{n}@example.com")
                        for n in range(start, min(start + CHUNK * 5, customers))
                    ],
                )
            conn.execute(
                insert(Product),
                [
                    dict(id=n + 1, code=f"product-{n:02d}", name_en=name, name_zh=name, active=True)
                    for n, name in enumerate(PRODUCTS)
                ],
            )
            conn.commit()
            now, rng, ids = utcnow(), random.Random(7), {}
            for start in range(0, tickets, CHUNK):
                rows = Rows(ids)
                for n in range(start, min(start + CHUNK, tickets)):
                    _ticket(rows, n, tickets, customers, agents, now, rng)
                rows.insert(conn)
            filled = time.perf_counter()
            facts.rebuild(conn, batch=5000)  # the history's facts, as migration 0025's backfill writes them
            conn.commit()
            print(f"  facts of {tickets:,} cases written in {time.perf_counter() - filled:.0f} s", flush=True)
        db.engine.dispose()
    return time.perf_counter() - started


def _ticket(rows: Rows, n: int, tickets: int, customers: int, agents: list, now, rng: random.Random) -> None:
    """One case and its step records: how far it got depends on its age."""
    opened = now - timedelta(days=YEARS * 365 * (tickets - n) / tickets, minutes=rng.randint(0, 600))
    age_days = (now - opened).total_seconds() / 86400
    priority = pick(rng, PRIORITIES)
    response_hours, resolution_hours = HOURS[priority]
    if age_days > 14:
        reached, status = ("review", "closed") if rng.random() < 0.93 else (rng.choice(STEPS[1:5]), "open")
        status = "cancelled" if rng.random() < 0.03 else status
    else:
        reached, status = rng.choice(STEPS), "open"
    depth = STEPS.index(reached)
    at = opened + timedelta(minutes=rng.randint(0, 30))
    row = dict(
        id=n + 1,
        reference=f"C-D-{n + 1:07d}",
        customer_id=rng.randint(1, customers),
        subject="Complaint",
        description="It went wrong.",
        channel=pick(rng, CHANNELS),
        category=pick(rng, CATEGORIES),
        product=rng.choices(PRODUCTS, PRODUCT_WEIGHTS)[0] if rng.random() < 0.85 else None,
        product_id=None,
        priority=priority,
        priority_rank=RANK[priority],
        step=reached,
        status=status,
        resolution_state="none",
        assignee_id=rng.choice(agents),
        created_by_id=None,
        updated_by_id=None,
        created_at=opened,
        updated_at=at,
        response_due_at=opened + timedelta(hours=response_hours),
        resolution_due_at=opened + timedelta(hours=resolution_hours),
        responded_at=None,
        analysed_at=None,
        promised_date=None,
        clock_paused_at=None,
        follow_up_due_at=None,
        review_due_at=None,
        review_recorded_at=None,
        closed_at=None,
        merged_into_id=None,
        version=depth + 2,
    )
    row["product_id"] = PRODUCTS.index(row["product"]) + 1 if row["product"] else None  # the catalogue's (build)
    rows.add(
        ListenRecord,
        ticket_id=row["id"],
        customer_words="It went wrong.",
        restatement="You mean it went wrong?",
        restatement_confirmed=True,
        expectation="A fix",
        emotion=rng.choice(["calm", "upset", "angry"]),
        dissatisfaction="explicit",
        created_at=at,
    )
    if depth >= 1:
        _handled(rows, row, depth, at, rng)
    if status == "closed":
        row["closed_at"] = row["updated_at"] + timedelta(hours=rng.uniform(4, 48))
        row["updated_at"] = row["closed_at"]
    rows.add(Ticket, **row)  # last: the steps above filled in its times and states


def _handled(rows: Rows, row: dict, depth: int, at, rng: random.Random) -> None:
    """Apology, analysis, resolution, follow-up and review, as far as the case got."""
    ticket_id = row["id"]
    if rng.random() < 0.3:
        at += timedelta(minutes=rng.uniform(10, 300))
        rows.add(Message, ticket_id=ticket_id, author_id=row["assignee_id"], body="We are on it.", created_at=at)
        row["responded_at"] = at
    at += timedelta(hours=rng.expovariate(1 / 3))
    rows.add(
        ApologyRecord,
        ticket_id=ticket_id,
        method="phone",
        wording="Sorry",
        apologised_by_id=row["assignee_id"],
        created_at=at,
    )
    row["responded_at"] = row["responded_at"] or at
    if depth >= 2:
        at += timedelta(hours=rng.expovariate(1 / 12))
        rows.add(
            AnalysisRecord,
            ticket_id=ticket_id,
            root_cause=pick(rng, CAUSES),
            detail="Found it",
            legitimacy="justified",
            responsibility="company",
            motive="fix",
            analysed_by_id=row["assignee_id"],
            created_at=at,
        )
        row["analysed_at"] = at
    if depth >= 3:
        at = _resolution(rows, row, depth, at, rng)
    if depth >= 4 and row["resolution_state"] == "carried_out":
        at = _follow_up(rows, row, depth, at, rng)
    if depth >= 5:
        at += timedelta(hours=rng.uniform(2, 30))
        rows.add(
            ReviewRecord,
            ticket_id=ticket_id,
            summary="Done",
            lesson="Keep promises",
            preventive_action="",
            recorded_by_id=row["assignee_id"],
            created_at=at,
        )
        row["review_recorded_at"] = at
    row["updated_at"] = at


def _resolution(rows: Rows, row: dict, depth: int, at, rng: random.Random):
    at += timedelta(hours=rng.expovariate(1 / 20))
    if rng.random() < 0.12:  # the customer turned a first proposal down
        rows.add(
            Resolution,
            ticket_id=row["id"],
            method="Too little",
            promised_date=at.date(),
            estimated_loss=None,
            currency="CNY",
            state="rejected",
            proposed_by_id=row["assignee_id"],
            created_at=at,
            carried_out_at=None,
        )
        at += timedelta(hours=rng.expovariate(1 / 24))
    done = depth >= 4
    state = "carried_out" if done else rng.choice(["awaiting_customer", "accepted", "awaiting_approval"])
    loss = rng.choice([None, 50, 100, 200, 500])
    carried_out = at + timedelta(hours=rng.expovariate(1 / 30)) if done else None
    resolution = rows.add(
        Resolution,
        ticket_id=row["id"],
        method="Put it right",
        promised_date=at.date(),
        estimated_loss=loss,
        currency="CNY",
        state=state,
        proposed_by_id=row["assignee_id"],
        created_at=at,
        carried_out_at=carried_out,
    )
    for kind, family, amount in rng.sample(COMPENSATION, rng.randint(1, 2)):
        rows.add(
            CompensationLine,
            resolution_id=resolution,
            kind=family,
            type=kind,
            amount=amount,
            currency="CNY",
            approved_at=at,
        )
    row["resolution_state"] = state
    return carried_out or at


def _follow_up(rows: Rows, row: dict, depth: int, at, rng: random.Random):
    at += timedelta(hours=rng.uniform(24, 72))
    retention = pick(rng, (("retained", 80), ("at_risk", 8), ("lost", 12)))
    churn = (
        pick(rng, (("negligent", 45), ("competitive", 30), ("natural", 20), ("malicious", 5)))
        if retention == "lost"
        else None
    )
    satisfaction = rng.choice([2, 3, 4, 4, 5, 5]) if retention != "lost" else rng.choice([1, 2, 3])
    follow_up = rows.add(
        FollowUpRecord,
        ticket_id=row["id"],
        method="phone",
        outcome="satisfied",
        satisfaction=satisfaction,
        retention=retention,
        churn_type=churn,
        notes="",
        recorded_by_id=row["assignee_id"],
        created_at=at,
    )
    if rng.random() < 0.4:
        rows.add(
            SurveyResponse,
            ticket_id=row["id"],
            follow_up_id=follow_up,
            satisfaction=satisfaction,
            recommend=min(10, max(0, satisfaction * 2 + rng.randint(-2, 1))),
            buy_again=rng.choice(["yes", "yes", "maybe", "no"]),
            fair_outcome=rng.randint(2, 5),
            fair_process=rng.randint(2, 5),
            fair_treatment=rng.randint(3, 5),
            comment=None,
            created_at=at + timedelta(hours=rng.uniform(1, 48)),
        )
    return at


def use_reference() -> None:
    """Compute every figure the way it was computed before the per-case facts: from the cases and their
    step records (tests/insight/reference), for the before/after comparison on the same machine state."""
    from dataclasses import replace

    from tests.insight.reference import queries as reference_queries
    from tests.insight.test_figures_exact import REFERENCE

    for key, compute in REFERENCE.items():
        figures.FIGURES[key] = replace(figures.FIGURES[key], compute=compute)
    figures.cohort_size = reference_queries.cohort_size


def measure(path: Path, repeat: int, reference: bool = False) -> list[dict]:
    """Time the dashboard for the last 90 days (the default), the last year and the last three years."""
    app = bench_app(path)
    if reference:
        use_reference()
    client = app.test_client()
    assert client.post("/login", data={"email": SUPERVISOR, "password": PASSWORD}).status_code == 302
    today = utcnow().date()
    results = []
    periods = (
        ("last 90 days", ""),
        ("last year", f"?date_from={today - timedelta(days=364)}"),
        ("three years", f"?date_from={today - timedelta(days=3 * 365 - 1)}"),
    )
    for label, query in periods:
        client.get(f"/insight/{query}")  # warm up: imports, compiled statements, the page cache
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get(f"/insight/{query}")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200
        results.append({"label": label, "median": statistics.median(times), "times": times, "query": query})
    with app.app_context():
        tickets = db.session.scalar(text("SELECT count(*) FROM tickets"))
    for result in results:
        result["tickets"] = tickets
    return results


def print_figures(path: Path) -> None:
    """The default dashboard's key numbers, as the page shows them."""
    app = bench_app(path)
    with app.test_request_context():
        from zoneinfo import ZoneInfo

        from ticketing.insight.filters import read_filters

        _form, filters = read_filters({}, ZoneInfo("Asia/Shanghai"))
        size, results = figures.dashboard(filters)
        print(f"  cases opened {filters.first_day} to {filters.last_day}: {size:,}")
        for key, result in results.items():
            numbers = ", ".join(f"{stat.label} {display(stat.value, stat.kind)}" for stat in result.headline.values())
            print(f"  {key:<20} {len(result.rows):>3} rows  {numbers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench"))
    parser.add_argument("--rebuild", action="store_true", help="build the databases again")
    parser.add_argument(
        "--reference", action="store_true", help="compute the figures from the cases and records, as before the facts"
    )
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for tickets in args.tickets:
        path = args.dir / f"dashboard-{tickets}.sqlite"
        if args.rebuild or not path.exists():
            print(f"Building {path} ({tickets:,} tickets) …", flush=True)
            print(f"  built in {build(path, tickets):.0f} s", flush=True)
        print_figures(path)
        for result in measure(path, args.repeat, args.reference):
            rows.append(result)
            print(
                f"{result['tickets']:>12,} tickets, {result['label']:<13} median {result['median']:.2f} s "
                f"({', '.join(f'{t:.2f}' for t in result['times'])})",
                flush=True,
            )
    print("\n     tickets  period          dashboard (s, median)")
    for row in rows:
        print(f"{row['tickets']:>12,}  {row['label']:<14}  {row['median']:>8.2f}")


if __name__ == "__main__":
    main()
