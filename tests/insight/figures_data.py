"""A small desk history for the dashboard's figures, made with the real services at known times.

Every figure test states its expected value by hand from this story (hours are after each case's intake):

  case 1  Li (A)   phone   product   Kettle   normal  Nov 1 09:00  apology 1h, analysis 3h (product), proposal 5h
          (refund 50 + gift 10, loss 100), accepted, carried out 10h, follow-up 20h satisfied 5 retained,
          survey 21h: 5 / 10 / yes / fairness 5 4 5. Left at review (open).
  case 2  Bo (B)   email   delivery  Sofa     normal  Nov 2 09:00  taken by the second agent; apology 2h,
          analysis 4h (service), proposal 6h (voucher 20, loss 40) rejected 7h, proposal 8h (voucher 40, loss 40)
          accepted, carried out 12h, follow-up 30h satisfied 4 retained, survey 31h: 3 / 7 / maybe / 3 3 4,
          review 40h, approved (closed) 42h.
  case 3  Cy (C)   phone   product   Kettle   urgent  Nov 3 09:00  staff message 3h (late: 1h allowed), apology 4h,
          analysis 6h (service), proposal 8h (refund 30, loss 30) accepted, carried out 20h, follow-up 40h
          unsatisfied 2 at risk (back to analysis), analysis 50h (product), proposal 52h (refund 60, loss 60)
          accepted, carried out 60h, follow-up 70h satisfied 4 lost (competitive), survey 71h: 2 / 3 / no / 2 2 3.
  case 4  Li (A)   wechat  billing   -        normal  Nov 4 09:00  listened to, nothing since (open, apologise).
  case 5  Di (D)   phone   product   Toaster  normal  Nov 5 09:00  cancelled 1h later (not a complaint).
  case 6  Li (A)   email   product   Kettle   normal  Nov 6 09:00  taken by the second agent, merged into case 1
          an hour later (a duplicate: never counted).

Before the period, A and C rated us: A 3 (case opened Oct 1), C 4 (case opened Oct 5).
The dashboard is asked for on Nov 24 09:00 UTC, for Nov 1-30 in UTC.
"""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from ticketing.cases import services
from ticketing.cases.survey import answer_survey
from ticketing.extensions import db
from ticketing.insight.filters import Filters

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
LISTEN = dict(
    customer_words="It broke.",
    restatement="You mean it broke?",
    restatement_confirmed=True,
    expectation="A fix",
    emotion="upset",
    dissatisfaction="explicit",
)


def period(**narrowed) -> Filters:
    """November 2026 in UTC, asked on NOW; `narrowed` replaces any of the Filters' fields."""
    return replace(
        Filters(first_day=date(2026, 11, 1), last_day=date(2026, 11, 30), zone=ZoneInfo("UTC"), now=NOW), **narrowed
    )


class Story:
    """Moves the frozen clock to `hours` after a case's intake before each step."""

    def __init__(self, clock, start: datetime):
        self.clock, self.start = clock, start

    def at(self, hours: float) -> None:
        self.clock.now = self.start + timedelta(hours=hours)


def _open(clock, start, actor, customer, channel, category, product, priority="normal"):
    clock.now = start
    ticket = services.take_complaint(
        actor,
        customer=customer,
        subject="Complaint",
        description="It broke.",
        channel=channel,
        category=category,
        product=product,
        priority=priority,
        listen=dict(LISTEN),
    )
    db.session.commit()
    return ticket, Story(clock, start)


def _do(action, ticket, *args, **kwargs):
    action(ticket, *args, version=ticket.version, **kwargs)
    db.session.commit()


def _propose(ticket, actor, loss, lines):
    _do(
        services.propose_resolution,
        ticket,
        actor,
        method="Put it right",
        promised_date=date(2026, 12, 20),
        currency="CNY",
        estimated_loss=Decimal(loss),
        lines=lines,
    )


def _analyse(ticket, actor, cause):
    _do(
        services.record_analysis,
        ticket,
        actor,
        root_cause=cause,
        detail="Found it",
        legitimacy="justified",
        responsibility="company",
        motive="fix",
    )


def _rate(ticket, satisfaction, recommend, buy_again, outcome, process, treatment):
    answer_survey(
        ticket,
        satisfaction=satisfaction,
        recommend=recommend,
        buy_again=buy_again,
        fair_outcome=outcome,
        fair_process=process,
        fair_treatment=treatment,
    )
    db.session.commit()


def _handled(ticket, actor, story, *, cause="product", loss=10, lines=(), times=(1, 2, 3, 4, 5)):
    """Apology, analysis, an accepted proposal carried out: at the given hours."""
    story.at(times[0])
    _do(services.record_apology, ticket, actor, method="phone", wording="Sorry")
    story.at(times[1])
    _analyse(ticket, actor, cause)
    story.at(times[2])
    _propose(ticket, actor, loss, list(lines))
    story.at(times[3])
    _do(services.record_customer_answer, ticket, actor, accepted=True)
    story.at(times[4])
    _do(services.carry_out_resolution, ticket, actor)


def _follow_up(ticket, actor, satisfaction, retention, outcome="satisfied", **extra):
    _do(
        services.record_follow_up,
        ticket,
        actor,
        method="phone",
        outcome=outcome,
        satisfaction=satisfaction,
        retention=retention,
        **extra,
    )


def _rated_before(clock, actor, customer, start, rating):
    ticket, story = _open(clock, start, actor, customer, "phone", "service", "Lamp")
    _handled(ticket, actor, story)
    story.at(6)
    _follow_up(ticket, actor, 4, "retained")
    story.at(7)
    _rate(ticket, rating, 8, "yes", 4, 4, 4)


def build(clock, agent, other_agent, supervisor) -> SimpleNamespace:
    """The story above; returns the cases by number."""
    a, b, c, d = (
        services.find_or_create_customer(name, f"{name.lower()}@example.com", None) for name in ("Li", "Bo", "Cy", "Di")
    )
    db.session.commit()
    _rated_before(clock, agent, a, datetime(2026, 10, 1, 9, tzinfo=timezone.utc), 3)
    _rated_before(clock, agent, c, datetime(2026, 10, 5, 9, tzinfo=timezone.utc), 4)
    cases = SimpleNamespace()
    cases.one = _case_one(clock, agent, a)
    cases.two = _case_two(clock, other_agent, supervisor, b)
    cases.three = _case_three(clock, agent, c)
    cases.four, _story = _open(
        clock, datetime(2026, 11, 4, 9, tzinfo=timezone.utc), agent, a, "wechat", "billing", None
    )
    cases.five, story = _open(
        clock, datetime(2026, 11, 5, 9, tzinfo=timezone.utc), agent, d, "phone", "product", "Toaster"
    )
    story.at(1)
    _do(services.cancel_case, cases.five, agent, reason="Not a complaint")
    cases.six, story = _open(
        clock, datetime(2026, 11, 6, 9, tzinfo=timezone.utc), other_agent, a, "email", "product", "Kettle"
    )
    story.at(1)
    _do(services.merge_case, cases.six, other_agent, target=cases.one, reason="Same kettle")
    clock.now = NOW
    return cases


def _case_one(clock, agent, customer):
    ticket, story = _open(
        clock, datetime(2026, 11, 1, 9, tzinfo=timezone.utc), agent, customer, "phone", "product", "Kettle"
    )
    _handled(
        ticket,
        agent,
        story,
        loss=100,
        lines=[{"type": "refund", "amount": Decimal(50)}, {"type": "gift", "amount": Decimal(10)}],
        times=(1, 3, 5, 6, 10),
    )
    story.at(20)
    _follow_up(ticket, agent, 5, "retained")
    story.at(21)
    _rate(ticket, 5, 10, "yes", 5, 4, 5)
    return ticket


def _case_two(clock, agent, supervisor, customer):
    ticket, story = _open(
        clock, datetime(2026, 11, 2, 9, tzinfo=timezone.utc), agent, customer, "email", "delivery", "Sofa"
    )
    story.at(2)
    _do(services.record_apology, ticket, agent, method="email", wording="Sorry")
    story.at(4)
    _analyse(ticket, agent, "service")
    story.at(6)
    _propose(ticket, agent, 40, [{"type": "voucher", "amount": Decimal(20)}])
    story.at(7)
    _do(services.record_customer_answer, ticket, agent, accepted=False, reason="Too little")
    story.at(8)
    _propose(ticket, agent, 40, [{"type": "voucher", "amount": Decimal(40)}])
    story.at(9)
    _do(services.record_customer_answer, ticket, agent, accepted=True)
    story.at(12)
    _do(services.carry_out_resolution, ticket, agent)
    story.at(30)
    _follow_up(ticket, agent, 4, "retained")
    story.at(31)
    _rate(ticket, 3, 7, "maybe", 3, 3, 4)
    story.at(40)
    _do(services.record_review, ticket, agent, summary="Done", lesson="Offer enough at once")
    story.at(42)
    _do(services.approve_review, ticket, supervisor)
    return ticket


def _case_three(clock, agent, customer):
    ticket, story = _open(
        clock,
        datetime(2026, 11, 3, 9, tzinfo=timezone.utc),
        agent,
        customer,
        "phone",
        "product",
        "Kettle",
        priority="urgent",
    )
    story.at(3)
    _do(services.send_message, ticket, agent, body="We are looking into it.")
    _handled(
        ticket,
        agent,
        story,
        cause="service",
        loss=30,
        lines=[{"type": "refund", "amount": Decimal(30)}],
        times=(4, 6, 8, 9, 20),
    )
    story.at(40)
    _follow_up(
        ticket,
        agent,
        2,
        "at_risk",
        outcome="unsatisfied",
        return_to="analyse",
        churn_type="retaliatory",
        churn_cause="product",
    )
    story.at(50)
    _analyse(ticket, agent, "product")
    story.at(52)
    _propose(ticket, agent, 60, [{"type": "refund", "amount": Decimal(60)}])
    story.at(53)
    _do(services.record_customer_answer, ticket, agent, accepted=True)
    story.at(60)
    _do(services.carry_out_resolution, ticket, agent)
    story.at(70)
    _follow_up(ticket, agent, 4, "lost", churn_type="competitive", churn_cause="price")
    story.at(71)
    _rate(ticket, 2, 3, "no", 2, 2, 3)
    return ticket
