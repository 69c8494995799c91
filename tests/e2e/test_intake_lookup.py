"""Intake's customer look-up in a real browser: a match is taken only on purpose, never by typing on."""

import pytest

from tests.e2e import seed
from tests.e2e.seed import PASSWORD

PHONES = {"en": "+86 138 0013 8071", "zh_CN": "+86 139 1234 5671"}
TYPED = {"en": ("Dan Other", "Lid broke again today"), "zh_CN": ("另一位客户", "盖子 今天 又坏了")}
seed.english_data(TYPED["en"])


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_typing_on_past_a_suggestion_keeps_what_was_typed_and_choosing_it_fills_the_customer(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "lookup", lang)
    seed.customer(seed_app, lang, PHONES[lang], f"lookup-{lang}@example.com".lower())
    name, subject = TYPED[lang]
    j = journey("intake-lookup", lang)
    page = j.page
    page.goto("/login")
    j.wait_for_focus("email")
    j.type(agent)
    j.press("Tab")
    j.type(PASSWORD)
    with page.expect_navigation(url="**/queue"):
        j.press("Enter")

    page.goto("/intake")
    j.wait_for_focus("customer_phone")
    j.type(PHONES[lang].replace(" ", "").removeprefix("+86"))
    page.locator("#customer-matches button").wait_for()  # a known caller: the suggestion is shown
    j.tab_to("customer_name", limit=2)
    j.type(name)
    j.tab_to("subject", limit=2)  # past the value tier only: the suggestion is not in the way
    j.type(subject)  # spaces included: nothing is pressed by them
    assert page.input_value("#customer_name") == name
    assert page.input_value("#subject") == subject
    assert page.input_value("#customer_id") == ""
    j.check("intake-typed-on")

    page.locator("#customer-matches button").first.click()  # chosen on purpose
    assert page.input_value("#customer_name") == seed.NAMES[lang]["customer"]
    assert page.input_value("#customer_id") != ""
    assert name in page.locator("#customer-matches .replaced").inner_text()  # what it replaced is shown
    assert page.input_value("#subject") == subject
    j.check("intake-chosen")
    j.finish()
