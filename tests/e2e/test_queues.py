"""The team queue as a supervisor works it, in a real browser, in English and Chinese: whose cases,
which deadline presses, ticked cases reassigned, a saved view, a header sorted, an absent agent's
cases handed back to the team queue, and the same page on a phone."""

import re

import pytest

from tests.e2e import seed
from tests.e2e.seed import PASSWORD
from tests.factories import open_case
from ticketing.auth.services import create_user, find_user_by_email
from ticketing.extensions import db

WORDS = {
    "en": {
        "colleague": "Cara Colleague",
        "view": "Absent agent",
        "holds": "holds 3 open cases.",
        "moved": "2 cases are reassigned to Cara Colleague.",
        "saved": "The view “Absent agent” is saved.",
        "back": "1 case is back in the team queue.",
        "count": "3 cases",
    },
    "zh_CN": {
        "colleague": "李娜",
        "view": "请假同事",
        "holds": "手上有 3 件未结案件。",
        "moved": "2 件案件已改派给 李娜。",
        "saved": "视图“请假同事”已保存。",
        "back": "1 件案件已退回团队案件。",
        "count": "3 件案件",
    },
}

seed.english_data(WORDS["en"]["colleague"])


def _people(seed_app, lang):
    supervisor = seed.staff(seed_app, "supervisor", "queues", lang)
    agent = seed.staff(seed_app, "agent", "queues", lang)
    colleague_email = f"colleague-queues-{lang}@e2e.test".lower().replace("_", "-")
    with seed.app_context(seed_app):
        if find_user_by_email(colleague_email) is None:
            create_user(
                email=colleague_email, password=PASSWORD, role="agent", name=WORDS[lang]["colleague"], locale=lang
            )
            db.session.commit()
        owner = find_user_by_email(agent)
        references = [open_case(owner, name=seed.NAMES[lang]["customer"]).reference for _ in range(3)]
        ids = owner.id, find_user_by_email(colleague_email).id
    return supervisor, ids, references


def _log_in(j, email):
    j.page.goto("/login")
    j.wait_for_focus("email")
    j.type(email)
    j.press("Tab")
    j.type(PASSWORD)
    with j.page.expect_navigation(url="**/queue"):
        j.press("Enter")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_supervisor_reassigns_saves_a_view_and_hands_an_absent_agents_cases_over(journey, seed_app, lang):
    supervisor, (agent_id, colleague_id), references = _people(seed_app, lang)
    words = WORDS[lang]
    j = journey("queues", lang)
    page = j.page
    _log_in(j, supervisor)
    page.goto("/queue?view=team")
    page.select_option("#assignee", str(agent_id))
    with page.expect_navigation():
        page.locator("form.filters button[type=submit]").click()
    j.check("team-queue-filtered")
    assert words["count"] in page.locator(".queue-count").inner_text()
    assert words["holds"] in page.locator("form.hand-over").inner_text()
    shown = page.locator("table.queue tbody tr a strong").all_inner_texts()
    assert sorted(shown) == sorted(references)

    with j.step("reassign"):
        for reference in shown[:2]:
            page.get_by_label(re.compile(re.escape(reference) + "$")).check()
        page.select_option("#bulk-assignee", str(colleague_id))
        with page.expect_navigation():
            page.locator(".bulk-actions button[type=submit]").click()
    assert words["moved"] in page.locator(".flash").first.inner_text()
    assert page.locator("table.queue tbody tr a strong").all_inner_texts() == shown[2:]
    assert j.counted("reassign") == {"page_loads": 1, "submissions": 1}

    with j.step("save a view"):
        page.locator(".saved-views summary").click()
        page.fill("#name", words["view"])
        with page.expect_navigation():
            page.locator("form.save-view button[type=submit]").click()
    assert words["saved"] in page.locator(".flash").first.inner_text()
    page.goto("/queue?view=team")
    with page.expect_navigation():
        page.get_by_role("link", name=words["view"], exact=True).click()
    assert page.locator("#assignee").input_value() == str(agent_id)
    j.check("saved-view")

    header = page.locator("th[aria-sort] a.sort")
    assert header.count() == 1  # the sort in force, and only it, says its order
    updated = page.locator("thead a.sort").nth(3)
    with page.expect_navigation():
        updated.click()
    assert page.locator("th[aria-sort] a.sort").inner_text().startswith(updated.inner_text()[:2])

    with j.step("hand over"):
        page.select_option("#hand-over-assignee", "none")
        with page.expect_navigation():
            page.locator("form.hand-over button[type=submit]").click()
    assert words["back"] in page.locator(".flash").first.inner_text()
    assert page.locator("table.queue tbody tr").count() == 0
    j.check("handed-over")
    j.finish()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_queue_fits_a_phone_and_names_each_value(journey, seed_app, lang):
    supervisor, (agent_id, _), references = _people(seed_app, lang)
    j = journey("queues-phone", lang, device="iPhone 13")
    page = j.page
    _log_in(j, supervisor)
    page.goto(f"/queue?view=team&assignee={agent_id}")
    j.check("queue-phone")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    first = page.locator("table.queue tbody tr").first
    before = first.locator("td[data-label]").evaluate_all(
        "cells => cells.filter(c => c.offsetParent)"
        ".map(c => [c.dataset.label, getComputedStyle(c, '::before').content])"
    )
    assert len(before) >= 8 and all(content == f'"{label}: "' for label, content in before[1:]), before
    j.finish()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_disabling_an_agent_who_holds_cases_asks_where_they_go(journey, seed_app, lang):
    _supervisor, (_agent_id, _), _references = _people(seed_app, lang)
    leaving = f"leaving-queues-{lang}@e2e.test".lower().replace("_", "-")
    admin = f"admin-queues-{lang}@e2e.test".lower().replace("_", "-")
    with seed.app_context(seed_app):
        for email, role in ((leaving, "agent"), (admin, "admin")):
            if find_user_by_email(email) is None:
                create_user(email=email, password=PASSWORD, role=role, name=WORDS[lang]["colleague"], locale=lang)
        db.session.commit()
        holder = find_user_by_email(leaving)
        held = [open_case(holder, name=seed.NAMES[lang]["customer"]).reference for _ in range(2)]
        holder_id = holder.id
    j = journey("disable-holder", lang)
    page = j.page
    _log_in(j, admin)
    page.goto(f"/admin/users/{holder_id}")
    question = page.locator(".field.when-disabling")
    assert question.is_hidden()  # asked only when the account is being disabled
    page.locator("#active").uncheck()
    assert question.is_visible()
    j.check("user-disabling")
    page.select_option("#cases_to", "none")
    with page.expect_navigation():
        page.locator("main form button.primary").click()
    with seed.app_context(seed_app):
        assert not find_user_by_email(leaving).active
        for reference in held:
            assert seed._ticket(reference).assignee_id is None
    j.finish()
