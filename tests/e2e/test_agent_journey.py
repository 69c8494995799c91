"""Journey 1: an agent logs in, takes a phone complaint from an existing customer with the keyboard
only, and carries the case through the six steps."""

import pytest

from tests.e2e import seed
from tests.e2e.seed import PASSWORD, WORDS

PHONES = {"en": "+86 138 0013 8001", "zh_CN": "+86 139 1234 5678"}


def submit(journey, landing="**/tickets/*"):
    """Ctrl+Enter from the field being typed in, then wait for the page it leads to."""
    with journey.page.expect_navigation(url=landing):
        journey.press("Control+Enter")


def choose(journey, field_id, value, key="ArrowDown", limit=10):
    """Move through a select or radio group with the arrow keys until `value` is chosen."""
    for _ in range(limit):
        if (
            journey.page.evaluate(
                f'document.querySelector(\'[name="{field_id}"]:checked, select[name="{field_id}"]\')?.value'
            )
            == value
        ):
            return
        journey.press(key)
    raise AssertionError(f"{field_id} never became {value!r}")


def flashed(journey) -> str:
    return journey.page.locator(".flash").first.inner_text()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_agent_takes_a_phone_complaint_by_keyboard_and_carries_it_through_the_six_steps(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "agent", lang)
    seed.customer(seed_app, lang, PHONES[lang], f"caller-{lang}@example.com".lower())
    words = WORDS[lang]
    j = journey("agent", lang)
    page = j.page

    with j.step("log in"):
        page.goto("/login")
        j.check("login")
        j.wait_for_focus("email")  # the page opens with the focus in the email field
        j.type(agent)
        j.press("Tab")
        j.type(PASSWORD)
        with page.expect_navigation(url="**/queue"):
            j.press("Enter")
        assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh_CN" else "en")
        j.check("queue")

    with j.step("intake"):
        with page.expect_navigation(url="**/intake"):
            j.press("n")  # the queue's shortcut for a new complaint
        j.check("intake")
        j.wait_for_focus("customer_phone")
        j.type(PHONES[lang].replace(" ", "").removeprefix("+86"))
        page.locator("#customer-matches button").wait_for()  # the look-up found the customer
        j.press("Enter")  # takes the first match and moves on to the subject
        assert j.focused() == "subject"
        assert page.input_value("#customer_name") == seed.NAMES[lang]["customer"]
        j.type(words["subject"])
        j.tab_to("priority", limit=2)
        choose(j, "priority", "high", key="ArrowUp")
        j.tab_to("category", limit=1)
        choose(j, "category", "product")
        j.tab_to("product", limit=1)
        j.type("KX-200")
        j.tab_to("customer_words", limit=1)
        j.type(words["words"])
        j.tab_to("restatement", limit=1)
        j.type(words["restatement"])
        j.tab_to("restatement_confirmed", limit=1)
        j.press("Space")
        j.tab_to("expectation", limit=1)
        j.type(words["expectation"])
        j.tab_to("emotion-0", limit=1)
        choose(j, "emotion", "angry")
        submit(j)
    intake = j.on_path("/intake")
    assert intake == {"page_loads": 1, "submissions": 1}, "intake takes one page and one submission"
    reference = page.locator(".ref").inner_text().split(" ")[0]
    assert seed.state_of(seed_app, reference) == ("open", "apologise", "none")

    with j.step("2 apologise"):
        j.check("case-apologise")
        assert j.focused() == "apologise-method"  # the step at hand has the focus
        j.tab_to("apologise-wording", limit=1)
        j.type(words["apology"])
        submit(j)

    with j.step("3 analyse"):
        j.check("case-analyse")
        assert j.focused() == "analyse-root_cause"
        j.tab_to("analyse-detail", limit=2)
        j.type(words["detail"])
        j.tab_to("analyse-legitimacy-0", limit=2)
        j.press("Space")
        j.tab_to("analyse-motive-0", limit=1)
        choose(j, "analyse-motive", "fix")
        submit(j)

    with j.step("4 propose"):
        j.check("case-propose")
        assert j.focused() == "propose-method"
        j.type(words["method"])
        j.tab_to("propose-promised_date", limit=1)
        page.locator("#propose-promised_date").fill(_in_days(3))  # date segments follow the browser's locale
        j.tab_to("propose-estimated_loss", limit=4)
        j.type("150")
        j.tab_to("propose-lines-0-compensation", limit=2)
        choose(j, "propose-lines-0-compensation", "voucher")
        j.tab_to("propose-lines-0-amount", limit=2)
        j.type("50")
        submit(j)
        assert seed.state_of(seed_app, reference) == ("open", "resolve", "awaiting_customer")

    with j.step("4 customer accepts (by phone)"):
        j.check("case-customer-answer")
        assert j.focused() == "customer_answer-answer-0"
        j.press("Space")
        submit(j)

    with j.step("4 carry out"):
        j.check("case-carry-out")
        assert j.focused() == "carry_out-note"
        j.type(words["method"])
        submit(j)

    with j.step("5 follow up"):
        j.check("case-follow-up")
        assert j.focused() == "follow_up-method"
        j.tab_to("follow_up-outcome-0", limit=1)
        j.press("Space")
        j.tab_to("follow_up-satisfaction-0", limit=1)
        choose(j, "follow_up-satisfaction", "5")
        j.tab_to("follow_up-retention-0", limit=1)
        j.press("Space")
        j.tab_to("follow_up-notes", limit=4)  # past the kind and cause of churn, and the return step
        j.type(words["summary"])
        submit(j)

    with j.step("6 record and review"):
        j.check("case-review")
        assert j.focused() == "record_review-summary"
        j.type(words["summary"])
        j.tab_to("record_review-lesson", limit=1)
        j.type(words["lesson"])
        submit(j)
        j.check("case-waiting-for-review")
    assert seed.state_of(seed_app, reference)[:2] == ("open", "review")
    record = j.finish()
    assert record["submissions"] == 9  # log in, intake, then one per action of the six steps


def _in_days(days: int) -> str:
    from datetime import date, timedelta

    return (date.today() + timedelta(days=days)).isoformat()
