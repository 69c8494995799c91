"""The top bar marks the section of every page (aria-current="page"), admin sub-pages included."""

import re

import pytest

from tests.conftest import login
from tests.factories import open_case

CURRENT = re.compile(r'<a href="([^"]*)"[^>]*aria-current="page"')

# page -> the link the top bar marks
SECTIONS = [
    ("/queue?view=mine", "/queue?view=mine"),
    ("/queue?view=team", "/queue?view=team"),
    ("/intake", "/intake"),
    ("/review/", "/review/"),
    ("/review/quality", "/review/"),
    ("/review/approvals", "/review/"),
    ("/replies/", "/replies/"),
    ("/insight/", "/insight/"),
    ("/record-log/", "/record-log/"),
    ("/admin/scheduler/", "/admin/scheduler/"),
    ("/admin/mail/", "/admin/scheduler/"),
    ("/admin/settings/", "/admin/settings/"),
    ("/admin/settings/history", "/admin/settings/"),
    ("/admin/catalogues/", "/admin/catalogues/"),
    ("/admin/users/", "/admin/users/"),
    ("/admin/security-log/", "/admin/security-log/"),
    ("/notifications/", "/notifications/"),
    ("/notifications/preferences", "/notifications/"),
    ("/account", "/account"),
    ("/api/v1/docs", "/account"),
]


@pytest.mark.parametrize("page, link", SECTIONS)
def test_each_page_marks_its_section_once(client, admin, page, link):
    login(client, admin.email)
    response = client.get(page)
    assert response.status_code == 200, page
    topbar = response.get_data(as_text=True).split("</header>")[0]
    assert CURRENT.findall(topbar) == [link]


def test_a_case_is_marked_under_the_queue_it_is_in(client, agent, supervisor):
    mine = open_case(agent)
    login(client, agent.email)
    topbar = client.get(f"/tickets/{mine.reference}").get_data(as_text=True).split("</header>")[0]
    assert CURRENT.findall(topbar) == ["/queue?view=mine"]
    other = client.application.test_client()
    login(other, supervisor.email)
    topbar = other.get(f"/tickets/{mine.reference}").get_data(as_text=True).split("</header>")[0]
    assert CURRENT.findall(topbar) == ["/queue?view=team"]
