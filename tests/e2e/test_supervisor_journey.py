"""Journey 3: a supervisor approves compensation above the agent's limit, reviews the case, returns it
once, approves it on the second review, and finds it in the record log."""

import pytest

from tests.e2e import seed
from tests.e2e.seed import PASSWORD, WORDS
from ticketing.cases.log_text import ACTION_LABELS


def click_and_wait(journey, locator):
    with journey.page.expect_navigation():
        locator.click()


def open_from_review_queue(journey, reference):
    """In the review queue, j moves down the list (oldest first) until the case; Enter opens it."""
    page = journey.page
    for _ in range(10):
        journey.press("j")
        if reference in page.evaluate("document.activeElement.textContent"):
            break
    else:
        raise AssertionError(f"{reference} is not in the review queue")
    with page.expect_navigation(url=f"**/review/cases/{reference}"):
        journey.press("Enter")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_supervisor_approves_compensation_returns_the_review_once_then_closes_it(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "supervisor", lang)
    supervisor = seed.staff(seed_app, "supervisor", "supervisor", lang)
    reference = seed.case_awaiting_approval(seed_app, agent, lang, amount=800)  # the agent's limit is 200
    words = WORDS[lang]
    j = journey("supervisor", lang)
    page = j.page
    nav = page.get_by_role("navigation", name=seed.translated(seed_app, lang, _main()))

    with j.step("log in"):
        page.goto("/login")
        page.locator("#email").fill(supervisor)
        page.locator("#password").fill(PASSWORD)
        with page.expect_navigation(url="**/queue"):
            page.keyboard.press("Enter")
        j.check("queue")

    with j.step("approve compensation"):
        click_and_wait(j, nav.locator("a[href$='/review/']"))
        j.check("review-queue-empty")
        click_and_wait(j, page.locator("a[href$='/review/approvals']"))
        j.check("approvals")
        approval = page.locator("section.approval", has_text=reference)
        assert "800" in approval.inner_text()
        approval.locator("textarea[name=approve_compensation-comments]").fill(words["lesson"])
        click_and_wait(j, approval.locator("form:not(.danger) button.primary"))
        assert page.url.endswith("/review/approvals")
        assert page.locator("section.approval", has_text=reference).count() == 0
        j.check("approvals-done")
    assert seed.state_of(seed_app, reference) == ("open", "resolve", "awaiting_customer")

    seed.finish_for_review(seed_app, reference, agent, lang)
    with j.step("review and return"):
        click_and_wait(j, nav.locator("a[href$='/review/']"))
        j.check("review-queue")
        open_from_review_queue(j, reference)
        j.check("review-case")
        page.locator("input[name=decision][value=return]").check()
        page.locator("#return_to").select_option("follow_up")
        page.locator("#comments").fill(words["return"])
        click_and_wait(j, page.locator("form.action-form button.primary").first)
        assert page.url.endswith("/review/")
    assert seed.state_of(seed_app, reference)[:2] == ("open", "follow_up")

    seed.finish_for_review(seed_app, reference, agent, lang, after_return=True)
    with j.step("review and approve"):
        page.reload()
        open_from_review_queue(j, reference)
        page.locator("input[name=decision][value=approve]").check()
        click_and_wait(j, page.locator("form.action-form button.primary").first)
        j.check("review-queue-after-approval")
    assert seed.state_of(seed_app, reference)[:2] == ("closed", "review")

    with j.step("find it in the record log"):
        click_and_wait(j, nav.locator("a[href$='/record-log/']"))
        j.check("record-log")
        page.locator("#reference").fill(reference)
        with page.expect_navigation():
            page.locator("#reference").press("Enter")
        j.check("record-log-case")
        events = page.locator("table.record-log tbody tr")
        assert events.count() >= 12
        labels = [row.locator("td").nth(4).inner_text() for row in events.all()]  # time, case, who, seq, event
        assert labels[0] == seed.translated(seed_app, lang, ACTION_LABELS["approve_review"])
        for action in ("approve_compensation", "return_review", "record_review", "propose"):
            assert seed.translated(seed_app, lang, ACTION_LABELS[action]) in labels
        assert all(row.locator("td").nth(1).inner_text().startswith(reference) for row in events.all())

    record = j.finish()
    assert record["submissions"] == 4  # log in, approve the compensation, return, approve the review


def _main():
    from flask_babel import lazy_gettext as _l

    return _l("Main")
