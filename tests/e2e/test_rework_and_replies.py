"""Rework without retyping and reply templates, in a real browser, in English and in Chinese.

A rejected proposal is proposed again with nothing retyped; a returned review shows who returned it
and why, and the summary and lesson come back in the form; the supervisor's preventive action starts
from the agent's. The template lists move with the arrow keys without touching the field, and Enter
or "Insert" puts in the wording filled in for the case."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.e2e import seed
from tests.e2e.seed import NAMES, PASSWORD, WORDS
from tests.factories import LISTEN, to_step
from ticketing.auth.services import find_user_by_email
from ticketing.cases import services
from ticketing.cases.models import ReplyTemplate, Ticket
from ticketing.cases.records import Resolution
from ticketing.clock import utcnow
from ticketing.extensions import db

REJECTION = {"en": "A voucher is no use to me, I want my money back.", "zh_CN": "代金券对我没用，我要退款。"}
seed.english_data(REJECTION["en"])


def _log_in(j, email):
    page = j.page
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation(url="**/queue"):
        page.keyboard.press("Enter")


def _click(j, locator):
    with j.page.expect_navigation():
        locator.click()


def _case(app, agent_email, lang, tag, step):
    """A case of a customer speaking `lang`, worked by the agent up to `step`."""
    with seed.app_context(app):
        agent = find_user_by_email(agent_email)
        person = services.find_or_create_customer(
            NAMES[lang]["customer"], f"{tag}-{lang}@example.com".lower().replace("_", "-"), None, locale=lang
        )
        ticket = services.take_complaint(
            agent,
            customer=person,
            subject=WORDS[lang]["subject"],
            description=WORDS[lang]["words"],
            channel="phone",
            listen=dict(LISTEN),
        )
        to_step(ticket, agent, step)
        db.session.commit()
        return ticket.reference


def _rejected_proposal(app, reference, agent_email, lang):
    with seed.app_context(app):
        ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        agent = find_user_by_email(agent_email)
        services.propose_resolution(
            ticket,
            agent,
            version=ticket.version,
            method=WORDS[lang]["method"],
            promised_date=(utcnow() + timedelta(days=4)).date(),
            currency="CNY",
            estimated_loss=150,
            lines=[{"type": "voucher", "description": WORDS[lang]["expectation"], "amount": 60}],
        )
        services.record_customer_answer(ticket, agent, version=ticket.version, accepted=False, reason=REJECTION[lang])
        db.session.commit()


def _proposals(app, reference):
    with seed.app_context(app):
        ticket_id = db.session.scalars(select(Ticket.id).where(Ticket.reference == reference)).one()
        rows = db.session.scalars(select(Resolution).where(Resolution.ticket_id == ticket_id).order_by(Resolution.id))
        return [
            (r.method, r.promised_date, r.estimated_loss, [(x.type, x.description, x.amount) for x in r.lines])
            for r in rows
        ]


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_rejected_proposal_is_proposed_again_without_retyping(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "rework", lang)
    reference = _case(seed_app, agent, lang, "rework", "resolve")
    _rejected_proposal(seed_app, reference, agent, lang)
    j = journey("rework-proposal", lang)
    page = j.page
    _log_in(j, agent)
    page.goto(f"/tickets/{reference}")
    j.check("case-rejected")
    reason = page.locator(".turned-down")
    assert REJECTION[lang] in reason.inner_text()
    form = page.locator("form[action$='/actions/propose']")
    assert reason.bounding_box()["y"] < form.bounding_box()["y"]  # read before the form
    assert page.input_value("#propose-method") == WORDS[lang]["method"]
    assert page.input_value("#propose-promised_date") == (utcnow() + timedelta(days=4)).date().isoformat()
    assert float(page.input_value("#propose-estimated_loss")) == 150
    assert page.input_value("#propose-lines-0-compensation") == "voucher"
    assert page.input_value("#propose-lines-0-details") == WORDS[lang]["expectation"]
    assert float(page.input_value("#propose-lines-0-amount")) == 60
    _click(j, form.locator("button.primary"))  # nothing typed: no field retyped
    j.check("case-proposed-again")
    first, second = _proposals(seed_app, reference)
    assert second == first
    assert seed.state_of(seed_app, reference)[2] == "awaiting_customer"
    j.finish()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_returned_review_keeps_the_summary_and_says_why(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "returned", lang)
    supervisor = seed.staff(seed_app, "supervisor", "returned", lang)
    reference = _case(seed_app, agent, lang, "returned", "review")
    words = WORDS[lang]
    with seed.app_context(seed_app):
        ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        services.record_review(
            ticket,
            find_user_by_email(agent),
            version=ticket.version,
            summary=words["summary"],
            lesson=words["lesson"],
            preventive_action=words["detail"],
        )
        db.session.commit()

    boss = journey("rework-return", lang)
    _log_in(boss, supervisor)
    boss.page.goto(f"/review/cases/{reference}")
    boss.check("review-case")
    assert boss.page.input_value("textarea[name=description]") == words["detail"]  # the agent's, to edit
    assert boss.page.locator("select[name=owner] option:checked").inner_text() == NAMES[lang]["agent"]
    boss.page.locator("input[name=decision][value=return]").check()
    boss.page.locator("#return_to").select_option("follow_up")
    boss.page.locator("#comments").fill(words["return"])
    _click(boss, boss.page.locator("form.action-form button.primary").first)
    boss.finish()

    j = journey("rework-returned", lang)
    page = j.page
    _log_in(j, agent)
    page.goto(f"/tickets/{reference}")
    j.check("case-returned")
    panel = page.locator(".panel.returned").inner_text()
    assert NAMES[lang]["supervisor"] in panel and words["return"] in panel
    # the follow-up call itself is made by the services: it is not what this test is about
    with seed.app_context(seed_app):
        ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        to_step(ticket, find_user_by_email(agent), "review")
    page.reload()
    j.check("review-step-returned")
    assert words["return"] in page.locator(".panel.returned").inner_text()
    assert page.input_value("#record_review-summary") == words["summary"]
    assert page.input_value("#record_review-lesson") == words["lesson"]
    assert page.input_value("#record_review-preventive_action") == words["detail"]
    _click(j, page.locator("form[action$='/actions/record_review'] button.primary"))
    assert page.locator(".panel.returned").count() == 0
    with seed.app_context(seed_app):
        ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        assert ticket.review_recorded_at is not None
    j.finish()


TEMPLATES = {
    "en": [
        ("apology", "A: sorry", "Dear {customer_name}, I am sorry about case {reference}."),
        ("apology", "B: sorry again", "{customer_name}, once more: sorry. {agent_name}"),
        ("message", "A: on it", "Dear {customer_name}, we are on case {reference}. {agent_name}"),
        ("message", "B: later", "Hello {customer_name}."),
    ],
    "zh_CN": [
        ("apology", "A：致歉", "{customer_name}您好，案件{reference}给您添麻烦了，非常抱歉。"),
        ("apology", "B：再次致歉", "{customer_name}，再次向您道歉。{agent_name}"),
        ("message", "A：处理中", "{customer_name}您好：案件{reference}正在处理中。{agent_name}"),
        ("message", "B：稍后", "{customer_name}您好。"),
    ],
}
seed.english_data(*(text for _, title, body in TEMPLATES["en"] for text in (title, body)))
seed.english_data("A", "B")  # the Chinese templates' titles too ("A：致歉")


@pytest.fixture
def templates(seed_app):
    """This test's templates, offered while it runs only (other journeys tab past the step fields)."""

    def offer(lang, active=True):
        with seed.app_context(seed_app):
            for kind, title, body in TEMPLATES[lang]:
                row = db.session.scalars(select(ReplyTemplate).where(ReplyTemplate.title == title)).first()
                row = row or ReplyTemplate(kind=kind, locale=lang, title=title, body=body)
                row.active = active
                db.session.add(row)
            db.session.commit()

    offered = []
    yield lambda lang: offered.append(lang) or offer(lang)
    for lang in offered:
        offer(lang, active=False)


def _choose_without_inserting(j, select_id, field_id):
    """ArrowDown, ArrowDown, ArrowUp on the list: the choice moves, the field does not change."""
    page = j.page
    before = page.input_value(f"#{field_id}")
    page.focus(f"#{select_id}")
    j.press("ArrowDown", times=2)
    j.press("ArrowUp")
    assert page.input_value(f"#{select_id}") != ""  # the first template is chosen…
    assert page.input_value(f"#{field_id}") == before  # …and nothing is inserted yet
    return before


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_reply_templates_move_with_the_arrow_keys_and_insert_on_enter_or_the_button(journey, seed_app, templates, lang):
    agent = seed.staff(seed_app, "agent", "replies", lang)
    reference = _case(seed_app, agent, lang, "replies", "apologise")
    templates(lang)
    customer, me = NAMES[lang]["customer"], NAMES[lang]["agent"]
    j = journey("replies", lang)
    page = j.page
    _log_in(j, agent)
    page.goto(f"/tickets/{reference}")
    j.check("case-with-templates")

    _choose_without_inserting(j, "reply-apologise-wording", "apologise-wording")
    assert customer in page.locator("#reply-apologise-wording-preview").inner_text()  # shown, not inserted
    j.press("Enter")
    wording = page.input_value("#apologise-wording")
    assert customer in wording and reference in wording and "{" not in wording
    assert j.focused() == "apologise-wording"

    page.focus("#reply-message-body")
    j.press("Tab")
    assert j.focused() == "message-body"  # the list costs one Tab stop on the way to its field, not two

    _choose_without_inserting(j, "reply-message-body", "message-body")
    page.locator("button[data-insert-from=reply-message-body]").click()
    message = page.input_value("#message-body")
    assert customer in message and reference in message and me in message
    _click(j, page.locator("form[action$='/actions/message'] button.primary"))
    assert message in page.locator(".bubble.from-staff").last.inner_text().replace("\r", "")
    j.finish()
