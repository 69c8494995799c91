"""A login ends by itself: after the idle time without a request, and the absolute time after it
began however busy the user is. Both are settings administrators change on the settings page."""

from tests.conftest import login
from ticketing.cases import settings


def test_a_login_left_idle_ends_with_a_message(app, client, agent, frozen_clock):
    assert login(client, agent.email).status_code == 302
    frozen_clock.move(minutes=29)
    assert client.get("/queue").status_code == 200
    frozen_clock.move(minutes=29)  # 58 minutes after the login, but never 30 without a request
    assert client.get("/queue").status_code == 200
    frozen_clock.move(minutes=31)
    ended = client.get("/queue")
    assert ended.status_code == 302 and "/login" in ended.headers["Location"]
    page = client.get("/login").get_data(as_text=True)
    assert "after 30 minutes without activity" in page
    assert client.get("/queue").status_code == 302  # for good: logging in again is the way back


def test_a_busy_login_still_ends_after_the_absolute_time(app, client, agent, frozen_clock):
    login(client, agent.email)
    for _ in range(12 * 3 + 1):  # a request every 20 minutes for over twelve hours
        frozen_clock.move(minutes=20)
        if client.get("/queue").status_code != 200:
            break
    assert client.get("/queue").status_code == 302
    assert "12 hours after you logged in" in client.get("/login").get_data(as_text=True)
    assert login(client, agent.email).status_code == 302 and client.get("/queue").status_code == 200


def test_the_message_is_in_the_users_language(app, client, make_user, frozen_clock):
    user = make_user("agent", "zh@example.com", locale="zh_CN")
    login(client, user.email)
    frozen_clock.move(minutes=31)
    client.get("/queue")
    assert "30 分钟" in client.get("/login").get_data(as_text=True)


def test_a_session_from_before_the_login_time_was_kept_ends(app, client, agent):
    login(client, agent.email)
    with client.session_transaction() as session:
        session.pop("signed_in_at")
    assert client.get("/queue").status_code == 302


def test_an_admin_shortens_the_idle_time_and_it_applies_at_once(app, client, admin, agent, frozen_clock):
    staff = app.test_client()
    login(staff, agent.email)
    login(client, admin.email)
    answer = client.post(
        "/admin/settings/sections/sessions",
        data={"sessions-session_idle_minutes": "10", "sessions-session_max_hours": "8"},
    )
    assert answer.status_code == 302
    assert (settings.desk().session_idle_minutes, settings.desk().session_max_hours) == (10, 8)
    frozen_clock.move(minutes=11)
    assert staff.get("/queue").status_code == 302


def test_the_settings_refuse_times_out_of_range(app, client, admin):
    login(client, admin.email)
    answer = client.post(
        "/admin/settings/sections/sessions",
        data={"sessions-session_idle_minutes": "1", "sessions-session_max_hours": "8"},
    )
    assert answer.status_code == 422 and "Enter a number from 5 to 1440" in answer.get_data(as_text=True)
    assert settings.desk().session_idle_minutes == 30


def test_supervisors_may_not_change_them(app, client, supervisor):
    login(client, supervisor.email)
    answer = client.post(
        "/admin/settings/sections/sessions",
        data={"sessions-session_idle_minutes": "600", "sessions-session_max_hours": "720"},
    )
    assert answer.status_code == 403
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert "A login ends after this long without activity" in page
    settings.forget()
    assert settings.desk().session_idle_minutes == 30
