"""Per-user notice preferences (in the app, e-mail, both, off) and a supervisor's scope (part of #14)."""

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from tests.conftest import PASSWORD, login
from ticketing.cases import vocabulary
from ticketing.cases.vocabulary import ReminderKind
from ticketing.extensions import db
from ticketing.notify.models import NoticePreference
from ticketing.notify.preferences import (
    CONFIGURABLE,
    MANDATORY,
    PreferenceError,
    channels_by_user,
    channels_for,
    in_scope,
    save_preferences,
)

BOTH, IN_APP, EMAIL, NONE = frozenset({"in_app", "email"}), frozenset({"in_app"}), frozenset({"email"}), frozenset()


def _rows(user) -> dict[str, str]:
    rows = db.session.scalars(select(NoticePreference).where(NoticePreference.user_id == user.id))
    return {row.kind: row.channels for row in rows}


@contextmanager
def _counted_queries():
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _select_of(page: str, kind: str) -> str:
    return re.search(rf'<select[^>]*name="{kind}".*?</select>', page, re.S).group(0)


def test_every_staff_kind_is_configurable_and_no_customer_kind_is():
    customer = getattr(vocabulary, "CUSTOMER_KINDS", {ReminderKind.PORTAL_LINK, ReminderKind.SATISFACTION_SURVEY})
    unclassified = {kind.value for kind in ReminderKind} - set(customer) - set(CONFIGURABLE)
    assert unclassified == set(), "a new kind: add it to vocabulary.CUSTOMER_KINDS or to preferences' staff kinds"
    assert set(CONFIGURABLE) & set(customer) == set()
    assert len(CONFIGURABLE) == len(set(CONFIGURABLE)) and MANDATORY <= set(CONFIGURABLE)


def test_without_a_choice_every_notice_comes_both_ways_and_a_supervisor_hears_of_escalations(agent, supervisor):
    assert {kind: channels_for(agent, kind) for kind in CONFIGURABLE} == dict.fromkeys(CONFIGURABLE, BOTH)
    assert channels_for(agent, ReminderKind.ASSIGNED) == BOTH  # the enum works as well as its value
    assert supervisor.notice_scope == "escalations" and _rows(agent) == {}


def test_a_saved_choice_is_how_the_notice_comes_and_only_changes_keep_a_row(agent):
    save_preferences(agent, {"customer_message": "email", "daily_digest": "off", "assigned": "in_app"}, None)
    db.session.commit()
    assert (channels_for(agent, "customer_message"), channels_for(agent, "daily_digest")) == (EMAIL, NONE)
    assert channels_for(agent, "assigned") == IN_APP and channels_for(agent, "follow_up_due") == BOTH
    save_preferences(agent, {"customer_message": "both", "daily_digest": "in_app", "follow_up_due": "both"})
    db.session.commit()
    assert _rows(agent) == {"daily_digest": "in_app", "assigned": "in_app"}  # back to "both": no row


@pytest.mark.parametrize("kind", sorted(MANDATORY))
def test_a_mandatory_notice_cannot_be_turned_off_only_moved(agent, kind):
    with pytest.raises(PreferenceError) as refused:
        save_preferences(agent, {kind: "off"})
    assert refused.value.field == kind and refused.value.status == 422
    assert "cannot be turned off" in str(refused.value.reason)
    save_preferences(agent, {kind: "email"})
    assert channels_for(agent, kind) == EMAIL


def test_a_stored_off_for_a_mandatory_notice_still_reaches_the_app(agent):
    db.session.add(NoticePreference(user_id=agent.id, kind="assigned", channels="off"))
    # a value no form offers
    db.session.add(NoticePreference(user_id=agent.id, kind="follow_up_due", channels="pigeon"))
    db.session.commit()
    assert channels_for(agent, "assigned") == IN_APP and channels_for(agent, "follow_up_due") == BOTH


@pytest.mark.parametrize(
    "choices, field, words",
    [
        ({"portal_link": "off"}, None, "no such kind of notice"),
        ({"made_up": "email"}, None, "no such kind of notice"),
        ({"daily_digest": "sms"}, "daily_digest", "from the list"),
    ],
)
def test_an_unknown_kind_or_channel_is_refused_clearly(agent, choices, field, words):
    with pytest.raises(PreferenceError) as refused:
        save_preferences(agent, choices)
    assert refused.value.field == field and words in str(refused.value.reason)


def test_a_refused_choice_keeps_every_other_choice_unsaved(agent):
    with pytest.raises(PreferenceError):
        save_preferences(agent, {"customer_message": "email", "daily_digest": "off", "assigned": "off"})
    db.session.rollback()
    assert _rows(agent) == {}


def test_only_supervisors_and_administrators_choose_a_scope(agent, supervisor, admin):
    with pytest.raises(PreferenceError, match="Only supervisors"):
        save_preferences(agent, {}, "all")
    with pytest.raises(PreferenceError) as refused:
        save_preferences(supervisor, {}, "everything")
    assert refused.value.field == "scope"
    save_preferences(supervisor, {}, "all")
    save_preferences(admin, {"daily_digest": "off"}, "all")
    db.session.commit()
    assert (supervisor.notice_scope, admin.notice_scope, agent.notice_scope) == ("all", "all", "escalations")
    save_preferences(supervisor, {"daily_digest": "email"}, None)  # None: the scope stays
    assert supervisor.notice_scope == "all"


def test_the_scope_says_who_gets_a_copy_of_whose_notices(agent, supervisor, admin):
    admin.notice_scope = "all"
    assert [in_scope(supervisor, a) for a in ("supervisors", "assignee", "user", "customer")] == [1, 0, 0, 0]
    assert [in_scope(admin, a) for a in ("supervisors", "assignee", "user", "customer")] == [1, 1, 0, 0]
    agent.notice_scope = "all"  # set behind the rules' back: an agent still gets no copies
    assert [in_scope(agent, a) for a in ("supervisors", "assignee", "user", "customer")] == [0, 0, 0, 0]


def test_channels_by_user_asks_the_database_once_for_any_number_of_recipients(make_user):
    users = [make_user("agent") for _ in range(6)]
    save_preferences(users[0], {"customer_message": "email"})
    save_preferences(users[1], {"customer_message": "off", "daily_digest": "email"})
    db.session.commit()
    ids = [user.id for user in users]
    with _counted_queries() as statements:
        answer = channels_by_user(ids, "customer_message")
    assert len(statements) == 1
    assert answer == {ids[0]: EMAIL, ids[1]: NONE, **dict.fromkeys(ids[2:], BOTH)}
    with _counted_queries() as statements:
        assert channels_by_user([], "customer_message") == {}
        assert channels_by_user(ids[:2], "portal_link") == dict.fromkeys(ids[:2], BOTH)  # nobody configures it
    assert statements == []


def test_the_page_offers_every_kind_an_agent_receives_with_off_only_where_allowed(client, agent):
    login(client, agent.email)
    response = client.get("/notifications/preferences")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Notice preferences" in page
    assert "Case assigned to you" in page and "Someone else gives you a case." in page
    assert 'value="off"' not in _select_of(page, "assigned") and "Cannot be turned off" in page
    assert 'value="off"' in _select_of(page, "daily_digest") and "In the app" in _select_of(page, "daily_digest")
    assert 'name="response_breached"' not in page  # for supervisors only
    assert 'name="scope"' not in page


def test_a_supervisor_also_chooses_which_cases_they_hear_about(client, supervisor):
    login(client, supervisor.email)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="scope"' in page and 'name="response_breached"' in page
    assert re.search(r'<input checked[^>]*value="escalations"|value="escalations"[^>]*checked', page)
    assert "also a copy of every notice sent to a case's assignee" in page


def test_the_page_speaks_chinese(client, make_user):
    reader = make_user("supervisor", locale="zh_CN")
    login(client, reader.email)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "通知偏好" in page and "分配给您的案件" in page and "不能关闭" in page
    for english in ("Notice preferences", "Someone else gives you a case.", "In the app", "Escalations only"):
        assert english not in page


def test_saving_from_the_page_says_so_and_keeps_the_choices(client, supervisor):
    login(client, supervisor.email)
    response = client.post(
        "/notifications/preferences", data={"daily_digest": "off", "assigned": "email", "scope": "all"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications/preferences")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your notice preferences are saved." in page
    assert re.search(r'<option selected value="email">', _select_of(page, "assigned"))
    assert _rows(supervisor) == {"daily_digest": "off", "assigned": "email"}
    assert db.session.get(type(supervisor), supervisor.id).notice_scope == "all"


def test_a_refused_page_says_why_next_to_the_choice_and_saves_nothing(client, agent):
    login(client, agent.email)
    response = client.post(
        "/notifications/preferences", data={"daily_digest": "off", "customer_message": "email", "promise_passed": "off"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "This notice cannot be turned off" in page
    assert "Nothing is saved: correct the choice marked below." in page
    assert 'id="promise_passed-error"' in page
    assert db.session.scalar(select(func.count()).select_from(NoticePreference)) == 0


def test_an_agent_cannot_slip_in_a_scope(client, agent):
    login(client, agent.email)
    response = client.post("/notifications/preferences", data={"daily_digest": "off", "scope": "all"})
    assert response.status_code == 422 and "Only supervisors and administrators" in response.get_data(as_text=True)
    assert _rows(agent) == {} and db.session.get(type(agent), agent.id).notice_scope == "escalations"


def test_the_notifications_and_account_pages_lead_to_the_preferences(client, agent):
    login(client, agent.email)
    for url in ("/notifications/", "/account"):
        assert 'href="/notifications/preferences"' in client.get(url).get_data(as_text=True)


def test_saving_needs_the_pages_csrf_token(app, agent):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    token_of = lambda page: page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]  # noqa: E731
    token = token_of(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": agent.email, "password": PASSWORD, "csrf_token": token})
    assert client.post("/notifications/preferences", data={"daily_digest": "off"}).status_code == 400
    assert _rows(agent) == {}
    token = token_of(client.get("/notifications/preferences").get_data(as_text=True))
    response = client.post("/notifications/preferences", data={"daily_digest": "off", "csrf_token": token})
    assert response.status_code == 302 and _rows(agent) == {"daily_digest": "off"}
