"""Demo data for `flask demo-data`: staff, customers, reply templates and complaints in every step and state.

Every change to a demo case goes through the case services with the clock set back in time,
so each case's record log reads exactly as real handling over the past weeks would have written it.
The tables themselves live in demo_data.py.
"""

import random
import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, inspect, select

from ticketing import clock
from ticketing.auth.models import User
from ticketing.auth.services import create_user
from ticketing.cases import services
from ticketing.cases.models import ReplyTemplate
from ticketing.cases.reminders import skip_customer_notices_due_before
from ticketing.cases.settings import desk
from ticketing.cases.survey import answer_survey
from ticketing.cases.vocabulary import ChurnCause, ChurnType, Outcome, Retention, Step
from ticketing.demo_data import (
    CASES,
    CONTACT_BY_CHANNEL,
    CUSTOMERS,
    DEFAULT_AGENT,
    GAP_HOURS,
    REPLY_TEMPLATES,
    STAFF,
    SUPERVISOR,
    TEXTS,
)
from ticketing.extensions import db

DEMO_EMAILS = tuple(person["email"] for person in STAFF)


def new_demo_passwords() -> dict[str, str]:
    """A password per demo login, made for this installation: shown once, stored only as hashes."""
    return {email: secrets.token_urlsafe(12) for email in DEMO_EMAILS}


def demo_logins(passwords: dict[str, str]) -> list[tuple[str, str, str]]:
    """(email, password, role) of each demo login, in the order the demo introduces them."""
    return [(person["email"], passwords[person["email"]], person["role"]) for person in STAFF]


def active_demo_accounts() -> list[str]:
    """The emails of the demo logins that still work (none before the schema exists)."""
    if not inspect(db.engine).has_table(User.__tablename__):
        return []
    query = select(User.email).where(User.active.is_(True), func.lower(User.email).in_(DEMO_EMAILS))
    return list(db.session.scalars(query.order_by(User.email)))


def other_users_exist() -> bool:
    """True when the database has an account the demo did not make (a real installation's)."""
    query = select(User.id).where(func.lower(User.email).not_in(DEMO_EMAILS)).limit(1)
    return db.session.scalars(query).first() is not None


SETUP_DAYS_AGO = 60  # staff, customers and templates exist well before the first case


def load_demo_data(passwords: dict[str, str] | None = None) -> int:
    """Stage demo staff (with `passwords`, default: new ones nobody sees), customers, templates and cases;
    the caller commits. Returns the case count."""
    now = datetime.now(timezone.utc)
    try:
        _set_time(now - timedelta(days=SETUP_DAYS_AGO))
        staff = _create_staff(passwords or new_demo_passwords())
        customers = _create_customers()
        _create_reply_templates(staff[SUPERVISOR])
        db.session.flush()
        tickets = {}
        plays = [CasePlay(case, staff, customers[case["customer"]], tickets, now) for case in CASES]
        # Oldest first, so references count up with time (and a duplicate finds its original).
        for play in sorted(plays, key=lambda play: play.opened):
            tickets[play.case["key"]] = play.run()
        # The history is made up: its customers were never written to, and must not be all at once now.
        skip_customer_notices_due_before(now)
    finally:
        clock.set_clock(None)
    return len(tickets)


def _set_time(at: datetime) -> None:
    """Move the injectable clock to `at` (a fixed instant, not a moving one)."""
    clock.set_clock(lambda: at)


def _create_staff(passwords: dict[str, str]) -> dict[str, User]:
    """The demo logins, keyed by the short names the case tables use."""
    users = {
        person["key"]: create_user(
            email=person["email"],
            password=passwords[person["email"]],
            role=person["role"],
            name=person["name"],
            locale=person["locale"],
        )
        for person in STAFF
    }
    db.session.flush()  # ids are needed for assignees
    return users


def _create_customers() -> dict:
    """Customers of both languages and every value tier."""
    return {
        key: services.find_or_create_customer(name, email, phone, value_tier=tier, locale=locale)
        for key, name, email, phone, tier, locale in CUSTOMERS
    }


def _create_reply_templates(author: User) -> None:
    """Wording for every reply kind in both languages, as a supervisor would maintain it."""
    for kind, locale, title, body in REPLY_TEMPLATES:
        db.session.add(
            ReplyTemplate(
                kind=kind,
                locale=locale,
                title=title,
                body=body,
                active=True,
                updated_by_id=author.id,
                updated_at=clock.utcnow(),
            )
        )


def _timeline(case: dict, now: datetime, rng: random.Random) -> tuple[datetime, list[datetime]]:
    """When the case was opened and when each later action happened.

    Gaps are typical working delays, jittered, and squeezed when needed so that a young case's
    last action still lies a little in the past.
    """
    age_hours = case["age"] * 24
    opened = now - timedelta(hours=age_hours + rng.uniform(0, min(3, age_hours / 4)))
    gaps = [GAP_HOURS[_split(item)[0]] * rng.uniform(0.7, 1.3) for item in case["path"]]
    room = (now - opened).total_seconds() / 3600 - rng.uniform(0.25, min(2.5, age_hours / 2))
    scale = min(1.0, room / sum(gaps)) if gaps else 1.0
    times, at = [], opened
    for gap in gaps:
        at += timedelta(hours=gap * scale)
        times.append(at)
    return opened, times


def _split(item) -> tuple:
    """A path item is a bare action name or (name, its text…): always (name, *args)."""
    return (item,) if isinstance(item, str) else item


class CasePlay:
    """One demo case walked through the services by the staff who would work it."""

    def __init__(self, case: dict, staff: dict[str, User], customer, tickets: dict, now: datetime):
        self.case, self.staff, self.customer, self.tickets = case, staff, customer, tickets
        self.rng = random.Random(case["key"])  # the same demo every time
        self.opened, self.times = _timeline(case, now, self.rng)
        self.text = TEXTS[case["lang"]]
        self.proposals = list(case.get("proposals", []))
        self.method = ""
        self.ticket = None

    def run(self):
        """Open the case, then take each action of its path at its time; returns the ticket."""
        _set_time(self.opened)
        self.open()
        db.session.flush()
        for item, at in zip(self.case["path"], self.times):
            _set_time(at)
            name, *args = _split(item)
            ACTIONS[name](self, *args)
            db.session.flush()  # bumps the version the next action must quote
        return self.ticket

    def open(self) -> None:
        """Intake: a web complaint lands unassigned; an agent takes (and listens to) anything else."""
        case = self.case
        intake = case.get("intake", "portal" if case["channel"] == "web" else "call")
        self.ticket = services.take_complaint(
            None if intake == "portal" else self.agent,
            customer=self.customer,
            subject=case["subject"],
            description=case["words"],
            channel=case["channel"],
            category=case["category"],
            product=case.get("product"),
            priority=case["priority"],
            listen=self.listen_data() if intake == "call" else None,
        )

    @property
    def agent(self) -> User:
        """Whoever the case is assigned to, or the agent for its language until it is assigned."""
        if self.ticket is not None and self.ticket.assignee_id is not None:
            return db.session.get(User, self.ticket.assignee_id)
        return self.staff[DEFAULT_AGENT[self.case["lang"]]]

    @property
    def supervisor(self) -> User:
        """Approvals, refusals, reviews and reopening are a supervisor's."""
        return self.staff[SUPERVISOR]

    @property
    def answering(self) -> User | None:
        """Web customers answer through the portal themselves; others tell their agent."""
        return None if self.case["channel"] == "web" else self.agent

    @property
    def contact(self) -> str:
        """Staff answer on the channel the customer used."""
        return CONTACT_BY_CHANNEL[self.case["channel"]]

    @property
    def version(self) -> int:
        """Every service checks the optimistic lock, as the web forms do."""
        return self.ticket.version

    def listen_data(self) -> dict:
        """Step 1 as the agent records it: the customer's words and a confirmed restatement."""
        case = self.case
        return dict(
            customer_words=case["words"],
            restatement=case["restatement"],
            restatement_confirmed=True,
            expectation=case["expectation"],
            emotion=case["emotion"],
            dissatisfaction=case.get("dissatisfaction", "explicit"),
            place=case.get("place"),
            occurred_at=clock.utcnow() - timedelta(hours=self.rng.randint(2, 30)),
        )

    def next_proposal(self) -> tuple:
        """The case's proposals in turn; a case proposing again after the last one repeats it."""
        proposal = self.proposals.pop(0) if len(self.proposals) > 1 else self.proposals[0]
        self.method = proposal[0]
        return proposal


# --- the actions a case path may name -------------------------------------------------


def _take(play):
    """An agent picks a web complaint from the team queue for themselves."""
    services.assign_case(play.ticket, play.agent, version=play.version, assignee=play.agent)


def _reassign(play, staff_key):
    """A supervisor hands the case to another agent (leave, workload)."""
    services.assign_case(play.ticket, play.supervisor, version=play.version, assignee=play.staff[staff_key])


def _listen(play):
    """Step 1 for a case that arrived without it (web form, or logged for a call-back)."""
    services.record_listening(play.ticket, play.agent, version=play.version, **play.listen_data())


def _apologise(play):
    """Feelings first: the apology is made whatever the merits."""
    services.record_apology(
        play.ticket, play.agent, version=play.version, method=play.contact, wording=play.text["apology"]
    )


def _analyse(play):
    """The cause judged fairly; several demo cases are the customer's own doing."""
    root_cause, legitimacy, responsibility, motive, detail = play.case["cause"]
    services.record_analysis(
        play.ticket,
        play.agent,
        version=play.version,
        root_cause=root_cause,
        detail=detail,
        legitimacy=legitimacy,
        responsibility=responsibility,
        motive=motive,
        product=play.case.get("product"),
    )


def _propose(play):
    """The promised date counts from the (simulated) day of the proposal, as the web form would."""
    method, days, loss, lines, *why = play.next_proposal()  # why: an offer out of proportion says why
    services.propose_resolution(
        play.ticket,
        play.agent,
        version=play.version,
        method=method,
        promised_date=(clock.utcnow() + timedelta(days=days)).date(),
        currency=desk().currency,
        estimated_loss=Decimal(loss),
        lines=[
            {"type": kind, "amount": None if amount is None else Decimal(amount), "description": text}
            for kind, amount, text in lines
        ],
        justification=why[0] if why else "",
    )


def _approve(play):
    """Compensation above the agent's limit goes to the customer once a supervisor approves."""
    services.approve_compensation(play.ticket, play.supervisor, version=play.version, comments=play.text["approve"])


def _refuse(play, reason):
    """The supervisor finds the compensation out of proportion; the agent must propose again."""
    services.refuse_compensation(play.ticket, play.supervisor, version=play.version, reason=reason)


def _accept(play):
    """The customer takes the proposal (web customers through the portal)."""
    services.record_customer_answer(play.ticket, play.answering, version=play.version, accepted=True)


def _reject(play, reason):
    """The customer turns the proposal down, with their reason on record."""
    services.record_customer_answer(play.ticket, play.answering, version=play.version, accepted=False, reason=reason)


def _carry_out(play):
    """The accepted resolution is done; follow-up comes next."""
    services.carry_out_resolution(play.ticket, play.agent, version=play.version, note=play.text["carried_out"])


def _satisfied(play):
    """A good follow-up; a case may override the score, retention and notes (e.g. a customer moving away)."""
    result = dict(
        satisfaction=play.rng.choice([4, 5]), retention=Retention.RETAINED, notes=play.text["follow_up"]
    ) | play.case.get("follow", {})
    services.record_follow_up(
        play.ticket, play.agent, version=play.version, method=play.contact, outcome=Outcome.SATISFIED, **result
    )


# What a complaint's root cause makes of a customer's reason to leave (seed 000's causes of churn).
_CHURN_CAUSE_OF = {
    "product": ChurnCause.PRODUCT,
    "service": ChurnCause.MANAGEMENT,
    "false_information": ChurnCause.UNKEPT_PROMISES,
}


def _unsatisfied(play, notes):
    """The problem is not really solved: back to analysing the cause; a customer unhappy with how their
    complaint went is at risk of leaving in retaliation."""
    services.record_follow_up(
        play.ticket,
        play.agent,
        version=play.version,
        method=play.contact,
        outcome=Outcome.UNSATISFIED,
        satisfaction=2,
        retention=Retention.AT_RISK,
        churn_type=ChurnType.RETALIATORY,
        churn_cause=_CHURN_CAUSE_OF.get(play.case["cause"][0], ChurnCause.OTHER),
        notes=notes,
        return_to=Step.ANALYSE,
    )


def _review(play):
    """Step 6: summary, lesson and prevention, for the supervisor's audit."""
    summary = play.text["summary"].format(
        subject=play.case["subject"], detail=play.case["cause"][4], method=play.method
    )
    services.record_review(
        play.ticket,
        play.agent,
        version=play.version,
        summary=summary,
        lesson=play.case.get("lesson") or play.text["lesson"],
        preventive_action=play.case.get("prevent", ""),
    )


def _close(play):
    """The audit passes and the case closes."""
    services.approve_review(play.ticket, play.supervisor, version=play.version, comments=play.text["review_ok"])


def _return(play, step, reason):
    """The audit finds a gap and sends the case back to a step."""
    services.return_review(play.ticket, play.supervisor, version=play.version, return_to=step, reason=reason)


def _note(play, body):
    """An internal note, for staff eyes only."""
    services.add_note(play.ticket, play.agent, body=body, version=play.version)


def _message(play, body):
    """A message the customer sees on their case page."""
    services.send_message(play.ticket, play.agent, body=body, version=play.version)


def _customer_message(play, body):
    """The customer writes through the portal."""
    services.send_message(play.ticket, None, body=body, version=play.version)


def _cancel(play, reason):
    """Withdrawn, or not a complaint at all."""
    services.cancel_case(play.ticket, play.agent, version=play.version, reason=reason)


def _merge(play, target_key, reason):
    """The same complaint again on another channel: cancelled into the original case."""
    services.merge_case(play.ticket, play.agent, version=play.version, target=play.tickets[target_key], reason=reason)


def _rate(play, satisfaction, recommend, buy_again, fair_outcome, fair_process, fair_treatment):
    """The customer answers the satisfaction survey after a good follow-up (through the portal)."""
    answer_survey(
        play.ticket,
        satisfaction=satisfaction,
        recommend=recommend,
        buy_again=buy_again,
        fair_outcome=fair_outcome,
        fair_process=fair_process,
        fair_treatment=fair_treatment,
    )


def _reopen(play, reason):
    """The problem came back after closing: a supervisor reopens the case to analysis."""
    services.reopen_case(play.ticket, play.supervisor, version=play.version, reason=reason)


ACTIONS = {
    "take": _take,
    "reassign": _reassign,
    "listen": _listen,
    "apologise": _apologise,
    "analyse": _analyse,
    "propose": _propose,
    "approve": _approve,
    "refuse": _refuse,
    "accept": _accept,
    "reject": _reject,
    "carry_out": _carry_out,
    "satisfied": _satisfied,
    "unsatisfied": _unsatisfied,
    "review": _review,
    "close": _close,
    "return": _return,
    "note": _note,
    "message": _message,
    "customer_message": _customer_message,
    "cancel": _cancel,
    "merge": _merge,
    "reopen": _reopen,
    "rate": _rate,
}
