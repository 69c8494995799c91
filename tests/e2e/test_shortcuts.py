"""The queue's keyboard shortcuts and the visible focus, in a real browser."""

import pytest

from tests.e2e import seed
from tests.e2e.seed import PASSWORD
from tests.factories import open_case
from ticketing.auth.services import find_user_by_email

OUTLINE = (
    "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_queue_shortcuts_move_open_search_and_list_themselves(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "shortcuts", lang)
    with seed.app_context(seed_app):
        references = [
            open_case(find_user_by_email(agent), name=seed.NAMES[lang]["customer"]).reference for _ in range(3)
        ]
    j = journey("shortcuts", lang)
    page = j.page
    page.goto("/login")
    j.wait_for_focus("email")
    j.type(agent)
    j.press("Tab")
    j.type(PASSWORD)
    with page.expect_navigation(url="**/queue"):
        j.press("Enter")

    shortcuts = page.locator("details.shortcuts")
    assert not shortcuts.evaluate("d => d.open")
    j.press("?")
    assert shortcuts.evaluate("d => d.open") and shortcuts.locator("dl").is_visible()
    assert j.focused() == "summary"
    j.check("queue-shortcuts")
    j.press("?")
    assert not shortcuts.evaluate("d => d.open")

    rows = [page.locator("table.queue tbody tr").nth(i).locator("a strong").inner_text() for i in range(3)]
    assert sorted(rows) == sorted(references)
    j.press("j")
    assert page.evaluate("document.activeElement.textContent") == rows[0]
    assert page.evaluate(OUTLINE)[0] != "none" and page.evaluate(OUTLINE)[1] >= 2  # the focus shows
    j.press("j", times=2)
    assert page.evaluate("document.activeElement.textContent") == rows[2]
    j.press("k")
    assert page.evaluate("document.activeElement.textContent") == rows[1]
    assert page.locator("tr.selected").count() == 1
    with page.expect_navigation(url=f"**/tickets/{rows[1]}"):
        j.press("o")
    page.go_back()

    j.press("/")
    assert j.focused() == "search-q"
    j.type(rows[2].lower() + "jk")  # typing in a field never triggers a shortcut
    assert page.input_value("#search-q") == rows[2].lower() + "jk"
    page.locator("#search-q").fill(rows[2])
    with page.expect_navigation(url=f"**/tickets/{rows[2]}"):
        j.press("Enter")
    page.go_back()
    with page.expect_navigation(url="**/intake"):
        j.press("n")
    j.finish()
