"""How fast the search box and the precedents panel answer at 1,000,000 cases.

    .venv/bin/python bench/search.py                        # SQLite, 1,000,000 cases
    .venv/bin/python bench/search.py --tickets 100000 --rebuild
    .venv/bin/python bench/search.py --database postgresql+psycopg://postgres@127.0.0.1:5432/bench_search

The database is built once (kept in --dir for SQLite, or in the given PostgreSQL database; --rebuild
builds it again) with `flask db upgrade`, then bulk inserts of the dashboard benchmark's three years
of history (bench/dashboard.py: every step record, compensation lines, follow-ups), given the words
people really use: customers with Chinese and English names, phones in several formats and
e-mails; subjects and descriptions written from a vocabulary of complaint phrases in Chinese and
English (a few common words, many rare ones). The search documents are then written by
`documents.rebuild`, as `flask search rebuild` does.

It then runs 200 varied queries — reference fragments, phones typed differently from how they were
stored, names (whole and partial), Chinese and English words — each through the search page as a
logged-in agent (the whole answer: matching, ranking, loading and rendering the page), after a
warm-up pass of 200 other queries, and prints p50/p95. The precedents panel is timed on 50 cases waiting for a proposal.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import insert, select, text

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import dashboard as history  # noqa: E402  (the dashboard benchmark's case history)

from config import Config  # noqa: E402
from ticketing import create_app  # noqa: E402
from ticketing.auth.services import create_user  # noqa: E402
from ticketing.cases.models import Customer, Ticket  # noqa: E402
from ticketing.cases.search import documents  # noqa: E402
from ticketing.extensions import db  # noqa: E402

AGENT, PASSWORD = "bench-agent@example.com", "bench password one"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
    "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅小龙海燕波宁凯辉鹏浩宇佳琳欣怡子涵雨萱梓轩浩然"
)
FIRST = (
    "James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Donald Ashley Steven "
    "Emily Paul Donna Andrew Michelle Joshua Carol Kevin Amanda Brian Melissa George Deborah Edward Stephanie"
).split()
LAST = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart"
).split()
# Complaint phrases: a few common ones (most complaints mention a refund or a delay), many rare ones.
CHINESE_COMMON = ["退款", "快递", "客服", "质量问题", "没有回复", "等了很久"]
CHINESE_RARE = [
    a + b
    for a in (
        "屏幕 电池 包装 配件 发票 安装 维修 充电器 遥控器 说明书 保修卡 外壳 按键 蓝牙 滤网 压缩机 电机 风扇 水箱 门封"
    ).split()
    for b in "破损 漏水 异响 发热 失灵 缺失 划痕 变形 断裂 松动 褪色 错发 过期 延误 不亮".split()
]
ENGLISH_COMMON = ["refund", "delivery", "late", "broken", "waiting", "replacement"]
ENGLISH_RARE = [
    f"{a} {b}"
    for a in (
        "screen battery packaging charger remote manual warranty casing button bluetooth filter compressor motor fan "
        "tank hinge seal cable adapter invoice"
    ).split()
    for b in (
        "cracked leaking rattling overheating missing scratched bent snapped loose faded mislabelled expired delayed "
        "flickering dead"
    ).split()
]


def bench_app(url: str):
    config = type(
        "BenchConfig",
        (Config,),
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SMTP_HOST": None,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "bench",
            "APP_ENV": "development",
        },
    )
    return create_app(config)


def _customer(n: int, rng: random.Random) -> dict:
    """A person as intake records them: numbers are random past their operator prefix, as real ones are."""
    if rng.random() < 0.6:
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))
        number = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        phone = rng.choice(
            [f"+86 {number[:3]} {number[3:7]} {number[7:]}", number, f"{number[:3]}-{number[3:7]}-{number[7:]}"]
        )
        email = f"user{n}@example.cn" if rng.random() < 0.5 else None
        digits = number
    else:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = f"{first} {last}"
        number = f"7{rng.randrange(10**9):09d}"
        phone, digits = f"+44 {number[:4]} {number[4:]}", f"44{number}"
        email = f"{first.lower()}.{last.lower()}{n}@example.com"
    return dict(
        id=n, name=name, email=email, phone=phone, phone_digits=digits, value_tier="standard", locale="en", version=1
    )


def _words(rng: random.Random, chinese: bool) -> tuple[str, str]:
    common, rare = (CHINESE_COMMON, CHINESE_RARE) if chinese else (ENGLISH_COMMON, ENGLISH_RARE)
    picked = rng.sample(rare, rng.randint(1, 3)) + rng.sample(common, rng.randint(0, 2))
    rng.shuffle(picked)
    separator = "，" if chinese else ", "
    subject = picked[0]
    description = separator.join(picked) + ("。已经联系过两次。" if chinese else ". I have called twice already.")
    return subject, description


def build(url: str, tickets: int) -> float:
    """The database at `url` with `tickets` cases and their search documents; the seconds it took."""
    from flask_migrate import upgrade

    started = time.perf_counter()
    app = bench_app(url)
    with app.app_context():
        if url.startswith("sqlite"):
            Path(db.engine.url.database).unlink(missing_ok=True)
        else:
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        upgrade()
        create_user(email=AGENT, password=PASSWORD, role="agent", name="Bench Agent")
        create_user(email=history.SUPERVISOR, password=PASSWORD, role="supervisor", name="Bench Supervisor")
        db.session.commit()
        rng = random.Random(11)
        with db.engine.connect() as conn:
            if url.startswith("sqlite"):
                conn.execute(text("PRAGMA synchronous=OFF"))
            conn.execute(
                insert(history.User),
                [
                    dict(email=f"agent{n}@example.com", name=f"Agent {n}", role="agent", password_hash="!")
                    for n in range(history.AGENTS)
                ],
            )
            agents = [row[0] for row in conn.execute(text("SELECT id FROM users WHERE role = 'agent'"))]
            customers = max(tickets * 6 // 10, 1)
            for start in range(1, customers + 1, history.CHUNK * 5):
                stop = min(start + history.CHUNK * 5, customers + 1)
                conn.execute(insert(Customer), [_customer(n, rng) for n in range(start, stop)])
            conn.commit()
            now, ids, numbers = history.utcnow(), {}, {}
            for start in range(0, tickets, history.CHUNK):
                rows = history.Rows(ids)
                for n in range(start, min(start + history.CHUNK, tickets)):
                    history._ticket(rows, n, tickets, customers, agents, now, rng)
                for row in rows.tables[Ticket]:
                    year = row["created_at"].year
                    numbers[year] = numbers.get(year, 0) + 1
                    row["reference"] = f"C-{year}-{numbers[year]:06d}"
                    row["subject"], row["description"] = _words(rng, rng.random() < 0.6)
                rows.insert(conn)
            print(f"  {tickets:,} cases inserted in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            cases, people = documents.rebuild(conn)
            conn.commit()
            print(f"  search documents for {cases:,} cases and {people:,} customers", file=sys.stderr)
            if not url.startswith("sqlite"):
                conn.execute(text("ANALYZE"))
                conn.commit()
        db.engine.dispose()
    return time.perf_counter() - started


def queries(app, rng: random.Random) -> list[tuple[str, str]]:
    """200 things a caller or a colleague types: (kind, query)."""
    with app.app_context():
        top = db.session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1))
        picked = [db.session.get(Ticket, rng.randint(1, top)) for _ in range(80)]
        found = []
        for ticket in picked[:40]:
            reference = ticket.reference
            year, number = reference.split("-")[1], int(reference.split("-")[2])
            found.append(("reference", rng.choice([reference, reference[-6:], f"{year}-{number}", reference.lower()])))
        for ticket in picked[40:80]:
            customer = ticket.customer
            digits = customer.phone_digits
            typed = (
                f"{digits[:3]} {digits[3:7]} {digits[7:]}" if digits.startswith("1") else f"0{digits[2:6]} {digits[6:]}"
            )
            found.append(
                ("phone", rng.choice([typed, digits[-8:], "+86 " + digits if digits.startswith("1") else typed]))
            )
        names = [db.session.get(Customer, rng.randint(1, top * 6 // 10)).name for _ in range(40)]
        for name in names:
            found.append(("name", name if rng.random() < 0.6 else name.split()[-1] if " " in name else name[:2]))
    found += [("chinese", rng.choice(CHINESE_COMMON + CHINESE_RARE)) for _ in range(40)]
    found += [("english", rng.choice(rng.choice(ENGLISH_COMMON + ENGLISH_RARE).split())) for _ in range(40)]
    return found


def measure_search(app, asked, warm_up) -> dict:
    client = app.test_client()
    assert client.post("/login", data={"email": AGENT, "password": PASSWORD}).status_code == 302
    for _kind, query in warm_up:  # other queries: imports, compiled statements, a server's usual cache
        client.get(f"/search?q={quote(query)}")
    times, by_kind, empty = [], {}, 0
    for kind, query in asked:
        started = time.perf_counter()
        response = client.get(f"/search?q={quote(query)}")
        elapsed = time.perf_counter() - started
        assert response.status_code in (200, 302), (query, response.status_code)
        empty += b"No case matches" in response.data
        times.append(elapsed)
        by_kind.setdefault(kind, []).append(elapsed)
    return {"times": times, "by_kind": by_kind, "empty": empty}


def measure_precedents(app, repeat: int = 50) -> list[float] | None:
    try:
        from ticketing.cases.precedents import precedents_for
    except ImportError:
        return None
    with app.app_context():
        waiting = db.session.scalars(
            select(Ticket)
            .where(Ticket.step == "resolve", Ticket.status == "open")
            .order_by(Ticket.id.desc())
            .limit(repeat)
        ).all()
        precedents_for(waiting[0])
        times = []
        for ticket in waiting:
            started = time.perf_counter()
            precedents_for(ticket)
            times.append(time.perf_counter() - started)
            db.session.expire_all()
    return times


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ticketing-bench"))
    parser.add_argument("--database", help="a PostgreSQL URL instead of SQLite in --dir (its tables are replaced)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build the database and stop")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    url = args.database or f"sqlite:///{args.dir / f'search-{args.tickets}.sqlite'}"
    app = bench_app(url)
    with app.app_context():
        try:
            count = db.session.scalar(text("SELECT count(*) FROM case_search"))
        except Exception:
            count = None
            db.session.rollback()
    if args.rebuild or count != args.tickets:
        print(f"building {args.tickets:,} cases at {url} ...", file=sys.stderr)
        print(f"built in {build(url, args.tickets):.0f} s", file=sys.stderr)
        app = bench_app(url)
    if args.build_only:
        return
    asked = queries(app, random.Random(5))
    result = measure_search(app, asked, warm_up=queries(app, random.Random(6)))
    dialect = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(f"Search at {args.tickets:,} cases on {dialect}: {len(asked)} queries through the search page")
    times = result["times"]
    print(f"  all      p50 {percentile(times, 0.5) * 1000:6.1f} ms   p95 {percentile(times, 0.95) * 1000:6.1f} ms")
    for kind, values in result["by_kind"].items():
        print(
            f"  {kind:<8} p50 {percentile(values, 0.5) * 1000:6.1f} ms   p95 {percentile(values, 0.95) * 1000:6.1f} ms"
            f"   max {max(values) * 1000:6.1f} ms"
        )
    print(f"  queries answered with no match: {result['empty']} of {len(asked)}")
    precedents = measure_precedents(app)
    if precedents:
        print(
            f"Precedents panel on {len(precedents)} cases waiting for a proposal: "
            f"p50 {statistics.median(precedents) * 1000:.1f} ms   p95 {percentile(precedents, 0.95) * 1000:.1f} ms"
            f"   max {max(precedents) * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
