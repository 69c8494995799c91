"""Journey: a customer on a phone follows their case from complaint to closure using only the links
in the e-mails we send, in English and in Chinese — and sees the step names, their own complaint,
and a confirmation after each answer."""

import re

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.seed import NAMES, WORDS
from tests.e2e.support import fits_the_screen, tap_survey_answers
from tests.mail import Inbox, free_port

PHONE = "Pixel 7"
LINK = re.compile(r"(http://\S+/track/\S+)")


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def newest_link(inbox, address: str, seen: int) -> tuple[str, int]:
    """The private link in the newest e-mail to `address`, and how many there are now."""
    messages = inbox.to(address)
    assert len(messages) > seen, "no new e-mail"
    [link] = LINK.findall(messages[-1].get_content())
    return link, len(messages)


def tap_and_wait(page, selector):
    with page.expect_navigation():
        page.locator(selector).tap()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_customer_follows_the_case_to_closure_by_the_emails_links_alone(journey, seed_app, smtp, lang):
    inbox, port = smtp
    agent = seed.staff(seed_app, "agent", "by-email", lang)
    supervisor = seed.staff(seed_app, "supervisor", "by-email", lang)
    words, address = WORDS[lang], f"by-email-{lang}@example.com".lower()
    j = journey("customer-by-email", lang, device=PHONE)
    page = j.page
    step_names = lambda: page.locator(".portal-progress .name").all_inner_texts()  # noqa: E731

    with j.step("complain"):
        page.goto("/complain")
        page.locator("#name").fill(NAMES[lang]["customer"])
        page.locator("#email").fill(address)
        page.locator("#what_happened").fill(words["words"])
        page.locator("#wish").fill(words["expectation"])
        tap_and_wait(page, "form button.primary")
    reference = page.locator(".reference").inner_text()
    page.context.clear_cookies()  # from here on, only the e-mails lead back

    seed.dispatch(seed_app, port)
    with j.step("case received"):
        link, seen = newest_link(inbox, address, 0)
        page.goto(link)
        j.check("email-received")
        assert fits_the_screen(page)
        assert len(step_names()) == 6 and all(name.strip() for name in step_names())
        expect(page.locator(".portal-progress [aria-current=step]")).to_have_count(1)
        expect(page.locator(".own-complaint .words")).to_have_text(words["words"])

    seed.work_web_case_to_proposal(seed_app, reference, agent, lang)
    seed.dispatch(seed_app, port)
    with j.step("proposal"):
        link, seen = newest_link(inbox, address, seen)  # the proposal, after our message
        page.goto(link)
        j.check("email-proposal")
        assert words["method"] in page.locator(".proposal").inner_text()
        page.locator("#answer-0").tap()  # I accept
        tap_and_wait(page, ".proposal button.primary")
        expect(page.locator(".flash")).to_be_visible()
        assert fits_the_screen(page)
    assert seed.state_of(seed_app, reference) == ("open", "resolve", "accepted")

    seed.carry_out_and_follow_up(seed_app, reference, agent)
    seed.dispatch(seed_app, port)
    with j.step("survey"):
        link, seen = newest_link(inbox, address, seen)
        page.goto(link)
        j.check("email-survey")
        tap_survey_answers(page)
        tap_and_wait(page, ".survey button.primary")
        expect(page.locator(".flash")).to_be_visible()
        assert page.locator(".survey").count() == 0

    seed.review_and_close(seed_app, reference, agent, supervisor)
    seed.dispatch(seed_app, port)
    with j.step("closed"):
        link, seen = newest_link(inbox, address, seen)
        page.goto(link)
        j.check("email-closed")
        assert fits_the_screen(page)
        expect(page.locator(".portal-progress .step-todo")).to_have_count(0)

    j.finish()
    subjects = [m["Subject"] for m in inbox.to(address)]
    assert all(reference in subject for subject in subjects)
    assert len(subjects) == len(set(subjects)) == 6  # received, message, proposal, remedy, survey, closed
    assert {m["References"] for m in inbox.to(address)} == {f"<case-{reference}@example.com>"}
