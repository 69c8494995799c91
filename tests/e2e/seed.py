"""Users, customers and the staff's side of a case, made with the real services on the e2e database."""

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select

from tests.factories import LISTEN, to_step
from ticketing.auth.services import create_user, find_user_by_email
from ticketing.cases import services
from ticketing.cases.models import Ticket
from ticketing.clock import utcnow
from ticketing.extensions import db

PASSWORD = "e2e password one"
NAMES = {
    "en": {"agent": "Ann Agent", "supervisor": "Sam Supervisor", "customer": "Li Lei"},
    "zh_CN": {"agent": "王芳", "supervisor": "陈主管", "customer": "张伟"},
}
WORDS = {
    "en": {
        "subject": "Kettle leaks after two days",
        "words": "The new kettle leaks all over the counter.",
        "restatement": "You mean the kettle you bought leaks, and you are upset, is that right?",
        "expectation": "A kettle that works",
        "apology": "I am very sorry about the trouble this caused.",
        "detail": "The seal of this batch is faulty.",
        "method": "We replace the kettle at home.",
        "summary": "Phone complaint, kettle replaced within three days, customer satisfied.",
        "lesson": "Check the seal on every batch.",
        "return": "Call the customer again: ask about the new kettle.",
    },
    "zh_CN": {
        "subject": "水壶用了两天就漏水",
        "words": "新买的水壶漏水，把台面都弄湿了。",
        "restatement": "您的意思是因为新买的水壶漏水，觉得很不满意，是吗？",
        "expectation": "换一个能用的水壶",
        "apology": "非常抱歉给您带来了麻烦。",
        "detail": "这一批水壶的密封圈有缺陷。",
        "method": "上门为您更换新水壶。",
        "summary": "电话投诉，三天内更换水壶，客户满意。",
        "lesson": "每批产品检查密封圈。",
        "return": "请再回访客户，确认新水壶是否正常。",
    },
}

# Every English datum the journeys write (people, products, a customer's words): a Chinese page of
# one journey may show another's (the team queue, a list of colleagues, the record log), and they are
# not its wording. A journey module that writes English data of its own adds it with english_data().
ENGLISH_DATA = [*NAMES["en"].values(), *WORDS["en"].values()]


def english_data(*texts) -> None:
    for text in texts:
        ENGLISH_DATA.extend([text] if isinstance(text, str) else text)


@contextmanager
def app_context(app):
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def staff(app, role: str, journey: str, lang: str) -> str:
    """A staff member speaking `lang`; returns the login email."""
    email = f"{role}-{journey}-{lang}@e2e.test".lower().replace("_", "-")
    with app_context(app):
        if find_user_by_email(email) is None:
            create_user(email=email, password=PASSWORD, role=role, name=NAMES[lang][role], locale=lang)
            db.session.commit()
    return email


def customer(app, lang: str, phone: str, email: str) -> None:
    with app_context(app):
        services.find_or_create_customer(NAMES[lang]["customer"], email, phone)
        db.session.commit()


def _user(email):
    return find_user_by_email(email)


def _ticket(reference) -> Ticket:
    return db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()


def work_web_case_to_proposal(app, reference: str, agent_email: str, lang: str) -> None:
    """The agent takes the customer's web complaint and proposes a resolution within their limit."""
    words = WORDS[lang]
    with app_context(app):
        ticket, agent = _ticket(reference), _user(agent_email)
        services.assign_case(ticket, agent, version=ticket.version, assignee=agent)
        services.record_listening(
            ticket,
            agent,
            version=ticket.version,
            **{
                **LISTEN,
                "customer_words": ticket.description,
                "restatement": words["restatement"],
                "expectation": words["expectation"],
            },
        )
        services.record_apology(ticket, agent, version=ticket.version, method="email", wording=words["apology"])
        services.record_analysis(
            ticket,
            agent,
            version=ticket.version,
            root_cause="product",
            detail=words["detail"],
            legitimacy="justified",
            responsibility="company",
            motive="fix",
        )
        services.send_message(ticket, agent, body=words["apology"])
        services.propose_resolution(
            ticket,
            agent,
            version=ticket.version,
            method=words["method"],
            promised_date=(utcnow() + timedelta(days=3)).date(),
            currency="CNY",
            estimated_loss=150,
            lines=[{"type": "voucher", "amount": 50}, {"type": "apology_letter"}],
        )
        db.session.commit()


def carry_out_and_follow_up(app, reference: str, agent_email: str) -> None:
    with app_context(app):
        ticket, agent = _ticket(reference), _user(agent_email)
        services.carry_out_resolution(ticket, agent, version=ticket.version, note="")
        services.record_follow_up(
            ticket,
            agent,
            version=ticket.version,
            method="phone",
            outcome="satisfied",
            satisfaction=5,
            retention="retained",
        )
        db.session.commit()


def case_awaiting_approval(app, agent_email: str, lang: str, amount: int = 800) -> str:
    """A case whose proposal is above the agent's limit (200): it waits for a supervisor."""
    words = WORDS[lang]
    with app_context(app):
        agent = _user(agent_email)
        person = services.find_or_create_customer(NAMES[lang]["customer"], f"approval-{lang}@example.com".lower(), None)
        ticket = services.take_complaint(
            agent,
            customer=person,
            subject=words["subject"],
            description=words["words"],
            channel="phone",
            priority="high",
            listen=dict(LISTEN),
        )
        to_step(ticket, agent, "resolve")
        services.propose_resolution(
            ticket,
            agent,
            version=ticket.version,
            method=words["method"],
            promised_date=(utcnow() + timedelta(days=3)).date(),
            currency="CNY",
            estimated_loss=amount,
            lines=[{"type": "refund", "amount": amount}, {"type": "apology_letter"}],
        )
        db.session.commit()
        return ticket.reference


def finish_for_review(app, reference: str, agent_email: str, lang: str, after_return: bool = False) -> None:
    """The agent's part after the approval (or after a return to the follow-up): summary recorded."""
    words = WORDS[lang]
    with app_context(app):
        ticket, agent = _ticket(reference), _user(agent_email)
        if not after_return:
            services.record_customer_answer(ticket, agent, version=ticket.version, accepted=True)
            services.carry_out_resolution(ticket, agent, version=ticket.version)
        services.record_follow_up(
            ticket,
            agent,
            version=ticket.version,
            method="phone",
            outcome="satisfied",
            satisfaction=5,
            retention="retained",
        )
        services.record_review(ticket, agent, version=ticket.version, summary=words["summary"], lesson=words["lesson"])
        db.session.commit()


def state_of(app, reference: str) -> tuple[str, str, str]:
    """(status, step, resolution state) of a case, read from the database."""
    with app_context(app):
        ticket = _ticket(reference)
        return ticket.status.value, ticket.step.value, ticket.resolution_state.value


def translated(app, lang: str, text) -> str:
    """A lazy string (a label of the app's) as `lang` shows it."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(lang):
        return str(text)


def review_and_close(app, reference: str, agent_email: str, supervisor_email: str) -> None:
    """The agent records the review and a supervisor approves it: the case closes."""
    with app_context(app):
        ticket, agent, supervisor = _ticket(reference), _user(agent_email), _user(supervisor_email)
        services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Check seals")
        services.approve_review(ticket, supervisor, version=ticket.version)
        db.session.commit()


def dispatch(app, smtp_port: int) -> None:
    """One scheduler pass, its e-mails to the test's SMTP server (as `flask scheduler run` would)."""
    from ticketing.scheduling.dispatcher import dispatch_due

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp_port, MAIL_FROM="service-desk@example.com")
    try:
        with app_context(app):
            dispatch_due(utcnow() + timedelta(seconds=1))
    finally:
        app.config.update(SMTP_HOST=None)
