"""A returning caller without a reference, found in a real browser from the keyboard: a phone
fragment typed another way, then a Chinese word of their complaint; then their record."""

import pytest

from tests.e2e import seed
from tests.e2e.seed import PASSWORD
from ticketing.cases import services
from ticketing.extensions import db

CALLER = {
    "en": ("Harriet Quayle", "+44 7700 900812", "Toaster sparks", "The toaster sparks and smells of 烧焦的塑料."),
    "zh_CN": ("欧阳娜娜", "+86 136 5555 0142", "电暖器异响", "电暖器开机后一直有咔哒异响，晚上无法入睡。"),
}
FRAGMENT = {"en": "07700 900812", "zh_CN": "136-5555-0142"}
WORD = {"en": "烧焦", "zh_CN": "咔哒异响"}
seed.english_data(CALLER["en"])


def _returning_caller(app, lang, agent_email):
    """A complaint taken last week: the caller rings back without its reference."""
    name, phone, subject, description = CALLER[lang]
    with seed.app_context(app):
        customer = services.find_or_create_customer(name, None, phone)
        ticket = services.take_complaint(
            seed._user(agent_email), customer=customer, subject=subject, description=description, channel="phone"
        )
        db.session.commit()
        return ticket.reference, customer.id


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_returning_caller_is_found_by_phone_and_by_a_chinese_word(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "search", lang)
    reference, customer_id = _returning_caller(seed_app, lang, agent)
    j = journey("search", lang)
    page = j.page
    page.goto("/login")
    j.wait_for_focus("email")
    j.type(agent)
    j.press("Tab")
    j.type(PASSWORD)
    with page.expect_navigation(url="**/queue"):
        j.press("Enter")

    j.press("/")
    assert j.focused() == "search-q"
    j.type(FRAGMENT[lang])
    with page.expect_navigation(url="**/search?**"):
        j.press("Enter")
    assert page.locator("table.queue tbody tr").first.locator("a strong").inner_text() == reference
    j.check("search-by-phone")

    j.press("/")
    page.locator("#search-q").fill("")
    j.type(WORD[lang])
    with page.expect_navigation(url="**/search?**"):
        j.press("Enter")
    assert page.locator("table.queue tbody tr").first.locator("a strong").inner_text() == reference
    j.check("search-by-chinese-word")

    with page.expect_navigation(url=f"**/customers/{customer_id}"):
        page.locator(
            f"section.search-customers a[href='/customers/{customer_id}'], "
            f"table.queue a[href='/customers/{customer_id}']"
        ).first.click()
    assert CALLER[lang][0] in page.locator("h1").inner_text()
    assert page.locator(f"a[href='/tickets/{reference}']").count() >= 1
    j.check("customer-record")
    j.finish()
