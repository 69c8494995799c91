"""The bell in a real browser: a notification that arrives while a page is open shows in the count
without a reload (the page asks when it comes back into view, and every BELL_POLL_SECONDS)."""

import pytest
from playwright.sync_api import expect

from tests.e2e import seed
from tests.e2e.seed import PASSWORD
from ticketing.extensions import db
from ticketing.notify.models import Notification

LABEL = {"en": "%d unread", "zh_CN": "%d 条未读"}


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_new_notification_shows_in_the_bell_without_a_reload(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "bell", lang)
    j = journey("bell", lang)
    page = j.page
    page.goto("/login")
    page.fill("#email", agent)
    page.fill("#password", PASSWORD)
    with page.expect_navigation(url="**/queue"):
        page.keyboard.press("Enter")
    count = page.locator("a.bell .count")
    before = int(count.inner_text() or 0)  # the scheduler may already have told them something

    with seed.app_context(seed_app):
        user = seed._user(agent)
        db.session.add_all([Notification(user_id=user.id, kind="assigned", details={}) for _ in range(2)])
        db.session.commit()
    loads = page.evaluate("performance.getEntriesByType('navigation').length")
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # as when the tab comes back
    expect(count).to_have_text(str(before + 2))
    assert count.is_visible() and count.get_attribute("aria-label") == LABEL[lang] % (before + 2)
    assert page.evaluate("performance.getEntriesByType('navigation').length") == loads  # no reload
    j.check("bell-updated")
    j.finish()
