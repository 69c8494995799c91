"""The bell's unread count, which every open page asks for now and then instead of waiting for a reload."""

from tests.conftest import login
from ticketing.extensions import db
from ticketing.notify.models import Notification


def _notify(user, n=1):
    for _ in range(n):
        db.session.add(Notification(user_id=user.id, kind="assigned", details={}))
    db.session.commit()


def test_the_count_answers_with_the_readers_unread_notifications_only(client, agent, supervisor):
    _notify(supervisor, 4)
    login(client, agent.email)
    answer = client.get("/notifications/unread")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert answer.get_json() == {"unread": 0, "label": "0 unread"}
    _notify(agent, 2)
    assert client.get("/notifications/unread").get_json() == {"unread": 2, "label": "2 unread"}


def test_every_page_carries_the_bell_that_asks(client, agent):
    login(client, agent.email)
    page = client.get("/queue").get_data(as_text=True)
    assert 'data-unread-url="/notifications/unread"' in page and 'data-poll-seconds="30"' in page
    assert '<span class="count" aria-live="polite" aria-label="0 unread" hidden>0</span>' in page


def test_the_count_speaks_chinese(client, make_user):
    reader = make_user("agent", "zh@example.com", "王静", locale="zh_CN")
    _notify(reader, 3)
    login(client, reader.email)
    label = client.get("/notifications/unread").get_json()["label"]
    assert "3" in label and "unread" not in label


def test_only_staff_may_ask(client):
    assert client.get("/notifications/unread").status_code == 302  # to the login page
