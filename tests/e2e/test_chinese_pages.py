"""No English in a Chinese page: every checkpoint of a zh_CN journey is read for Latin-letter words
(tests/e2e/support.py, Journey.english_words). Here the pages no other journey reaches are walked in
Chinese as a supervisor and an administrator, and the check itself is shown to catch a stray word."""

import pytest

from tests.e2e import seed
from tests.e2e.seed import PASSWORD
from ticketing.auth.services import create_user, find_user_by_email
from ticketing.extensions import db

SUPERVISOR_PAGES = [
    ("team-queue", "/queue?view=team&status=closed"),
    ("review", "/review/"),
    ("approvals", "/review/approvals"),
    ("lessons", "/review/lessons"),
    ("quality", "/review/quality"),
    ("record-log", "/record-log/"),
    ("insight", "/insight/"),
    ("at-risk", "/insight/at-risk"),
    ("win-back", "/insight/win-back"),
    ("warnings", "/insight/warnings"),
    ("team", "/insight/team"),
    ("replies", "/replies/"),
    ("settings", "/admin/settings/"),
    ("catalogues", "/admin/catalogues/"),
    ("scheduler", "/admin/scheduler/"),
    ("mail", "/admin/mail/"),
    ("notifications", "/notifications/"),
    ("preferences", "/notifications/preferences"),
    ("account", "/account"),
    ("api-docs", "/api/v1/docs"),  # headers, fields and values in its sentences are code
]
ADMIN_PAGES = [("users", "/admin/users/"), ("security-log", "/admin/security-log/")]


def _log_in(j, email):
    j.page.goto("/login")
    j.page.fill("#email", email)
    j.page.fill("#password", PASSWORD)
    with j.page.expect_navigation():
        j.page.locator("main button.primary").click()


@pytest.mark.parametrize(("role", "pages"), [("supervisor", SUPERVISOR_PAGES), ("admin", ADMIN_PAGES)])
def test_the_supervisors_and_admins_pages_are_all_chinese(journey, seed_app, role, pages):
    email = f"{role}-chinese-pages@e2e.test"
    with seed.app_context(seed_app):
        if find_user_by_email(email) is None:
            create_user(
                email=email,
                password=PASSWORD,
                role=role,
                name="陈主管" if role == "supervisor" else "刘管理员",
                locale="zh_CN",
            )
            db.session.commit()
    j = journey(f"chinese-pages-{role}", "zh_CN")
    _log_in(j, email)
    for label, path in pages:
        j.page.goto(path)
        assert j.page.locator("html").get_attribute("lang") == "zh-CN"
        j.check(label)
    j.finish()


def test_the_check_finds_an_english_word_and_leaves_code_and_marked_english_alone(journey, seed_app):
    email = seed.staff(seed_app, "agent", "chinese-check", "zh_CN")
    j = journey("chinese-check", "zh_CN")
    _log_in(j, email)
    j.page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend", '<p>每天运行 '
             + '<code>flask audit verify</code>；<span lang="en">Kettle</span>；'
             + '客户 li@example.com，C-2026-000001</p>')"""
    )
    j.english_words("clean")
    assert j.problems == []
    j.page.evaluate("""() => document.querySelector("main").insertAdjacentHTML("beforeend", "<p>已超期 Overdue</p>")""")
    j.english_words("stray")
    assert len(j.problems) == 1 and "Overdue (p)" in j.problems[0]
    j.problems.clear()
    j.finish()
