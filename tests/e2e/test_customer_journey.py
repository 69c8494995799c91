"""Journey 2: a customer complains from a phone, opens the private tracking link, accepts the proposed
resolution and rates the outcome."""

import pytest

from tests.e2e import seed
from tests.e2e.seed import NAMES, WORDS
from tests.e2e.support import fits_the_screen, tap_survey_answers

PHONE = "Pixel 7"


def tap_and_wait(journey, selector):
    with journey.page.expect_navigation():
        journey.page.locator(selector).tap()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_customer_complains_from_a_phone_then_accepts_the_proposal_and_rates_it(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "customer", lang)
    words = WORDS[lang]
    j = journey("customer", lang, device=PHONE)
    page = j.page

    with j.step("complain"):
        page.goto("/complain")
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh_CN" else "en")
        j.check("complain")
        assert fits_the_screen(page)
        page.locator("#name").fill(NAMES[lang]["customer"])
        page.locator("#email").fill(f"phone-{lang}@example.com".lower())
        page.locator("#product").fill("KX-200")
        page.locator("#what_happened").fill(words["words"])
        page.locator("#wish").fill(words["expectation"])
        tap_and_wait(j, "form button.primary")
        j.check("received")
        assert fits_the_screen(page)
    reference = page.locator(".reference").inner_text()
    link = page.locator(".private-link a").get_attribute("href")

    with j.step("open the private link"):
        tap_and_wait(j, ".private-link a")
        assert page.url.endswith("/track")  # the token is swapped for a session and a clean address
        j.check("track-received")
        assert fits_the_screen(page)
        assert page.locator("#private-link").input_value() == link
        page.locator("button[data-copy-link]").tap()  # the clipboard, or the text selected to copy
        status = page.locator("#private-link-status")
        status.wait_for(state="visible")
        assert status.inner_text() in [seed.translated(seed_app, lang, text) for text in _copied()]

    seed.work_web_case_to_proposal(seed_app, reference, agent, lang)
    with j.step("answer the proposal"):
        page.goto(link)  # later, from the link in the e-mail
        j.check("track-proposal")
        assert fits_the_screen(page)
        assert words["method"] in page.locator(".proposal").inner_text()
        page.locator("#answer-0").tap()  # I accept this solution
        tap_and_wait(j, ".proposal button.primary")
        j.check("track-accepted")
    assert seed.state_of(seed_app, reference) == ("open", "resolve", "accepted")

    seed.carry_out_and_follow_up(seed_app, reference, agent)
    with j.step("rate"):
        page.goto(link)
        j.check("track-survey")
        assert fits_the_screen(page)
        tap_survey_answers(page)
        page.locator("#comment").fill(words["summary"])
        tap_and_wait(j, ".survey button.primary")
        j.check("track-rated")
        assert page.locator(".flash").inner_text() == seed.translated(seed_app, lang, _thanks())
        assert page.locator(".survey").count() == 0

    record = j.finish()
    assert (record["page_loads"], record["submissions"]) == (7, 3)
    assert j.on_path("/complain") == {"page_loads": 1, "submissions": 1}, "complaining takes one page, one submission"


def _copied():
    from flask_babel import lazy_gettext as _l

    return _l("Copied"), _l("The link is selected: press Ctrl+C (or ⌘+C) to copy it.")


def _thanks():
    from flask_babel import lazy_gettext as _l

    return _l("Thank you: we have your answers. They help us do better, for you and for others.")
