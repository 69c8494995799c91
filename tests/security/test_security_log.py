"""The admin and security log (#16): every login, failed login, logout, account, token, template, settings and
catalogue change and every export is an entry; the chain shows an edited, removed or re-sealed entry; the
database refuses to change entries; administrators alone browse, filter and export it; the application log
gets each committed entry at INFO. On SQLite and PostgreSQL."""

import csv
import hashlib
import hmac
import io
import json
import logging
import threading
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from config import TestConfig
from tests.conftest import PASSWORD, login
from tests.databases import behind_the_applications_back
from tests.settings_data import section_data
from ticketing import create_app, sealing
from ticketing.auth import security_log
from ticketing.auth.security_log import Kind, SecurityEntry
from ticketing.auth.tokens import create_token, issue_token
from ticketing.cases import catalogue_edits
from ticketing.cases.models import ReplyTemplate
from ticketing.extensions import db
from ticketing.i18n import when_in

PAGE, EXPORT = "/admin/security-log/", "/admin/security-log/export.csv"


def _entries(kind: Kind | None = None) -> list[SecurityEntry]:
    query = select(SecurityEntry).order_by(SecurityEntry.seq)
    return list(db.session.scalars(query.where(SecurityEntry.kind == kind) if kind else query))


def _last(kind: Kind) -> SecurityEntry:
    found = _entries(kind)
    assert found, f"no {kind} entry"
    return found[-1]


def _signed_in(app, user):
    client = app.test_client()
    assert login(client, user.email).status_code == 302
    return client


# --- every kind of event is an entry -------------------------------------------------------------


def test_a_login_and_a_logout_are_recorded_with_who_and_from_where(app, agent):
    client = _signed_in(app, agent)
    entry = _last(Kind.LOGIN)
    assert (entry.actor_id, entry.actor_name, entry.account_id, entry.ip) == (
        agent.id,
        "Ann Agent",
        agent.id,
        "127.0.0.1",
    )
    assert client.post("/logout").status_code == 302
    assert _last(Kind.LOGOUT).actor_id == agent.id


def test_failed_logins_are_recorded_alike_whether_or_not_the_address_exists(client, app, agent):
    known = client.post("/login", data={"email": agent.email, "password": "not the password"})
    unknown = client.post("/login", data={"email": "nobody@example.com", "password": "not the password"})
    assert known.status_code == unknown.status_code == 200
    same = known.get_data(as_text=True).replace(agent.email, "nobody@example.com")
    assert same == unknown.get_data(as_text=True)  # the visitor learns nothing
    wrong_password, no_account = _entries(Kind.LOGIN_FAILED)
    assert (wrong_password.actor_id, wrong_password.details) == (
        agent.id,
        {"email": agent.email, "reason": "password"},
    )
    assert (no_account.actor_id, no_account.actor_name, no_account.account_id) == (None, None, None)
    assert no_account.details == {"email": "nobody@example.com", "reason": "unknown"}
    stored = json.dumps([e.details for e in _entries()])
    assert "not the password" not in stored and PASSWORD not in stored


def test_a_failed_login_keeps_the_address_as_typed_clipped_and_without_control_characters(client, app):
    typed = "evil\x00\x1b[31m@example.com\n" + "x" * 400
    assert client.post("/login", data={"email": typed, "password": "whatever it is"}).status_code == 200
    entry = _last(Kind.LOGIN_FAILED)
    assert entry.details["reason"] == "refused_form"
    assert entry.details["email"].startswith("evil\ufffd\ufffd[31m@example.com\ufffdxxx")
    assert len(entry.details["email"]) == security_log.TYPED_LENGTH


def test_a_disabled_account_failing_to_log_in_is_recorded_as_such(client, app, agent, admin):
    agent.active = False
    db.session.commit()
    assert login(client, agent.email).status_code == 200
    assert _last(Kind.LOGIN_FAILED).details["reason"] == "disabled"


def test_changing_ones_password_is_recorded_and_holds_no_password(app, agent):
    client = _signed_in(app, agent)
    data = {
        "password-current_password": PASSWORD,
        "password-new_password": "a brand new secret",
        "password-confirm": "a brand new secret",
    }
    assert client.post("/account", data=data).status_code == 302
    entry = _last(Kind.PASSWORD_CHANGED)
    assert (entry.actor_id, entry.account_id, entry.details) == (agent.id, agent.id, {})


def test_an_admin_creating_an_account_is_recorded_without_its_password(app, admin):
    client = _signed_in(app, admin)
    data = {"name": "Nia New", "email": "nia@example.com", "role": "agent", "password": PASSWORD, "locale": "en"}
    assert client.post("/admin/users/", data=data).status_code == 302
    entry = _last(Kind.USER_CREATED)
    assert (entry.actor_id, entry.subject_type) == (admin.id, "user")
    assert entry.details == {"email": "nia@example.com", "name": "Nia New", "role": "agent"}
    assert PASSWORD not in json.dumps(entry.details)


def test_role_active_and_password_changes_by_an_admin_are_each_recorded_once(app, admin, agent):
    client = _signed_in(app, admin)
    data = {"role": "supervisor", "new_password": "reset by the admin"}  # "active" left out: disabled
    assert client.post(f"/admin/users/{agent.id}", data=data).status_code == 302
    role, active, password = _last(Kind.ROLE_CHANGED), _last(Kind.ACTIVE_CHANGED), _last(Kind.PASSWORD_CHANGED)
    assert role.details == {"changes": {"role": ["agent", "supervisor"]}}
    assert active.details == {"changes": {"active": [True, False]}}
    assert {e.actor_id for e in (role, active, password)} == {admin.id}
    assert {e.account_id for e in (role, active, password)} == {agent.id}
    before = len(_entries())
    assert client.post(f"/admin/users/{agent.id}", data={"role": "supervisor"}).status_code == 302
    assert len(_entries()) == before  # saved as it was: nothing changed, nothing recorded


def test_creating_and_revoking_a_token_is_recorded_without_its_secret(app, agent, admin):
    client = _signed_in(app, agent)
    page = client.post("/account/tokens", data={"token-name": "Weekly report"}).get_data(as_text=True)
    created = _last(Kind.TOKEN_CREATED)
    assert (created.actor_id, created.account_id, created.subject_type) == (agent.id, agent.id, "token")
    assert created.details["name"] == "Weekly report" and created.details["read_only"] is False
    secret = page.split('id="new-token" value="')[1].split('"')[0]
    assert secret not in json.dumps(created.details) and created.details["hint"] == secret[:8]
    admin_client = _signed_in(app, admin)
    assert admin_client.post(f"/account/tokens/{created.subject_id}/revoke").status_code == 302
    revoked = _last(Kind.TOKEN_REVOKED)
    assert (revoked.actor_id, revoked.account_id, revoked.subject_id) == (admin.id, agent.id, created.subject_id)


def test_reply_templates_created_and_edited_are_recorded_with_what_changed(app, supervisor):
    client = _signed_in(app, supervisor)
    data = {"kind": "apology", "locale": "en", "title": "Sorry", "body": "We are sorry.", "active": "y"}
    assert client.post("/replies/new", data=data).status_code == 302
    template = db.session.scalars(select(ReplyTemplate)).one()
    created = _last(Kind.TEMPLATE_SAVED)
    assert (created.subject_id, created.details["created"]) == (str(template.id), True)
    assert created.details["changes"]["body"] == [None, "We are sorry."]
    assert client.post(f"/replies/{template.id}", data={**data, "body": "We apologise."}).status_code == 302
    edited = _last(Kind.TEMPLATE_SAVED)
    assert edited.details == {"created": False, "changes": {"body": ["We are sorry.", "We apologise."]}}


def test_settings_saved_on_the_page_are_recorded_one_entry_a_setting(app, supervisor):
    client = _signed_in(app, supervisor)
    response = client.post(
        "/admin/settings/sections/timing", data=section_data(app, "timing", digest_hour="9", reopen_days="14")
    )
    assert response.status_code == 302
    changed = {e.subject_id: e.details["changes"] for e in _entries(Kind.SETTING_CHANGED)}
    assert changed == {"digest_hour": {"digest_hour": [8, 9]}, "reopen_days": {"reopen_days": [30, 14]}}
    assert {e.actor_id for e in _entries(Kind.SETTING_CHANGED)} == {supervisor.id}


def test_reading_the_settings_through_the_api_is_a_settings_export(app, client, agent):
    _row, secret = issue_token(agent, "BI tool", read_only=True)
    db.session.commit()
    assert client.get("/api/v1/settings", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    entry = _last(Kind.SETTINGS_EXPORTED)
    assert (entry.actor_id, entry.details) == (agent.id, {"via": "api", "token": secret[:8]})


def test_catalogue_edits_are_recorded(app, supervisor):
    product = catalogue_edits.add_product(supervisor, name_en="Kettle K9", name_zh="")
    catalogue_edits.rename_product(product, supervisor, name_en="Kettle K10", name_zh="电水壶 K10")
    db.session.commit()
    created, renamed = _entries(Kind.CATALOGUE_CHANGED)
    assert (created.subject_type, created.subject_id, created.details["action"]) == (
        "product",
        str(product.id),
        "created",
    )
    assert renamed.details["before"]["name_en"] == "Kettle K9" and renamed.details["after"]["name_en"] == "Kettle K10"
    assert {created.actor_id, renamed.actor_id} == {supervisor.id}


def test_exporting_the_security_log_is_itself_recorded_with_its_filters(app, admin):
    client = _signed_in(app, admin)
    query = {"kind": "login", "person": str(admin.id), "date_from": "not a date"}
    assert client.get(EXPORT, query_string=query).status_code == 200
    entry = _last(Kind.LOG_EXPORTED)
    assert (entry.actor_id, entry.details) == (admin.id, {"filters": f"kind=login&person={admin.id}"})


# --- the chain ----------------------------------------------------------------------------------------


def _behind_the_applications_back(statement: str) -> None:
    """As someone with the database's password but not the sealing key would."""
    behind_the_applications_back("security_log", statement)


@pytest.fixture
def five_entries(app, make_user):
    user = make_user("agent", "five@example.com", "Fay Five")
    for name in ("one", "two", "three", "four"):
        create_token(user, name)
    db.session.commit()
    assert [e.seq for e in _entries()] == [1, 2, 3, 4, 5]
    return _entries()


def test_an_intact_log_verifies_and_each_entry_follows_the_one_before(five_entries):
    assert security_log.verify() == (5, None)
    assert five_entries[0].prev_hash is None
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(five_entries, five_entries[1:]))
    assert security_log.head() == (5, five_entries[-1].hash)


def test_an_edited_entry_is_named(five_entries):
    _behind_the_applications_back("UPDATE security_log SET actor_name = 'Someone Else' WHERE seq = 3")
    checked, broken = security_log.verify()
    assert (checked, broken.seq, broken.entry_id) == (2, 3, five_entries[2].id)
    assert "seal" in broken.problem


def test_an_entry_removed_from_the_middle_is_noticed(five_entries):
    _behind_the_applications_back("DELETE FROM security_log WHERE seq = 2")
    checked, broken = security_log.verify()
    assert (checked, broken.seq, broken.problem) == (1, 3, "an entry is missing before this one")


def test_a_re_sealed_entry_is_noticed_without_the_key(five_entries):
    entry = five_entries[3]
    content = entry.content()
    content[9] = {"name": "forged", "hint": "tk_00000", "read_only": True}
    unkeyed = hashlib.sha256(sealing.canonical(content)).hexdigest()
    forged = json.dumps(content[9])
    _behind_the_applications_back(f"UPDATE security_log SET details = '{forged}', hash = '{unkeyed}' WHERE seq = 4")
    assert security_log.verify()[1].seq == 4
    # Sealed with a key of the forger's own, under a key id the ring does not hold, or under ours:
    forged_mac = hmac.new(b"y" * 40, sealing.canonical(content), hashlib.sha256).hexdigest()
    for key_id in ("other", "test1"):
        _behind_the_applications_back(
            f"UPDATE security_log SET hash = '{forged_mac}', key_id = '{key_id}' WHERE seq = 4"
        )
        assert security_log.verify()[1].seq == 4


def test_a_cut_tail_shows_against_the_anchor(five_entries):
    anchor = security_log.head()
    _behind_the_applications_back("DELETE FROM security_log WHERE seq >= 4")
    assert security_log.verify() == (3, None)  # what is left is a chain of its own…
    checked, broken = security_log.verify(anchor=anchor)  # …but not the one the anchor saw
    assert (checked, broken.seq) == (3, 5)


@pytest.mark.parametrize("statement", ["UPDATE security_log SET kind = 'login'", "DELETE FROM security_log"])
def test_the_database_refuses_to_change_or_delete_entries(five_entries, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count(SecurityEntry.id))) == 5


def test_postgresql_refuses_to_truncate_the_log(five_entries):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("TRUNCATE security_log"))
    db.session.rollback()


def test_concurrent_writers_cannot_fork_the_chain(app, agent):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer; the concurrent test runs on PostgreSQL")
    agent_id, errors, start = agent.id, [], threading.Barrier(4)

    def log_in_ten_times():
        with app.app_context():
            from ticketing.auth.models import User

            start.wait()
            for _ in range(10):
                try:  # straight to the log: the chain itself must serialise the appends
                    user = db.session.get(User, agent_id)
                    security_log.record(Kind.LOGIN, actor=user, subject=("user", user.id))
                    db.session.commit()
                except Exception as error:
                    db.session.rollback()
                    errors.append(error)
            db.session.remove()

    threads = [threading.Thread(target=log_in_ten_times) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert security_log.verify() == (41, None)  # the agent's creation, then forty logins


# --- the application log ---------------------------------------------------------------------------


def test_committed_entries_reach_the_application_log_at_info_and_rolled_back_ones_do_not(app, agent, caplog):
    assert logging.getLogger("ticketing.security").getEffectiveLevel() == logging.INFO
    with caplog.at_level(logging.INFO, logger="ticketing.security"):
        security_log.record(Kind.LOGOUT, actor=agent, subject=("user", agent.id))
        db.session.rollback()
        security_log.record(Kind.LOGIN, actor=agent, subject=("user", agent.id))
        db.session.commit()
    lines = [r for r in caplog.records if r.name == "ticketing.security"]
    assert [r.levelno for r in lines] == [logging.INFO]
    assert lines[0].getMessage().startswith("login #2 by Ann Agent (user 1)")


def test_a_migration_run_in_the_same_process_does_not_silence_the_security_log(app):
    security = logging.getLogger("ticketing.security")
    security.disabled = True  # what Alembic's fileConfig does to every logger that exists when it runs
    create_app(type("Again", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    assert not security.disabled and security.getEffectiveLevel() == logging.INFO


# --- the page ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_only_administrators_see_or_export_the_log(app, make_user, role):
    client = _signed_in(app, make_user(role))
    assert client.get(PAGE).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert "/admin/security-log/" not in client.get("/queue").get_data(as_text=True)


def test_the_page_filters_by_event_person_and_period(app, admin, agent, frozen_clock):
    login(app.test_client(), agent.email)  # a login by the agent, on 24 November
    frozen_clock.move(days=3)
    client = _signed_in(app, admin)  # the admin's, on 27 November
    assert "/admin/security-log/" in client.get("/queue").get_data(as_text=True)
    page = client.get(PAGE, query_string={"kind": "login", "person": str(agent.id)}).get_data(as_text=True)
    assert page.count('<tr id="entry-') == 1 and "Ann Agent" in page and "127.0.0.1" in page
    nov_27 = {"kind": "login", "date_from": "2026-11-27", "date_to": "2026-11-27"}
    page = client.get(PAGE, query_string=nov_27).get_data(as_text=True)
    assert page.count('<tr id="entry-') == 1 and "Ada Admin" in page
    page = client.get(PAGE, query_string={"date_from": "2026-11-28", "date_to": "2026-11-26"}).get_data(as_text=True)
    assert "The end of the period comes before its start." in page


def test_the_page_shows_fifty_entries_then_the_older_ones(app, admin, agent):
    for _ in range(55):
        security_log.record(Kind.LOGIN, actor=agent, subject=("user", agent.id))
    db.session.commit()
    client = _signed_in(app, admin)
    first = client.get(PAGE).get_data(as_text=True)
    assert first.count('<tr id="entry-') == 50 and 'id="entry-58"' in first and 'id="entry-9"' in first
    second = client.get(PAGE, query_string={"before": "9"}).get_data(as_text=True)
    assert second.count('<tr id="entry-') == 8 and "Older entries" not in second


def test_the_export_is_a_spreadsheet_safe_csv_with_seq_and_seal(app, admin, make_user):
    _signed_in(app, make_user("agent", "formula@example.com", '=HYPERLINK("http://evil.example")'))
    response = _signed_in(app, admin).get(EXPORT)
    body = response.get_data(as_text=True)
    assert response.headers["Content-Disposition"].startswith('attachment; filename="security-log-')
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["No.", "Time (UTC, ISO 8601)", "Time (Asia/Shanghai)", "Event"]
    entry = db.session.scalars(select(SecurityEntry).where(SecurityEntry.actor_name.like("=HYPERLINK%"))).one()
    row = next(row for row in rows[1:] if row[0] == str(entry.seq))
    assert (row[3], row[4]) == ("Logged in", "'" + entry.actor_name)  # shown as text, never run as a formula
    assert (row[-2], row[-1]) == ("test1", entry.hash)
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_page_speaks_chinese_in_the_readers_timezone(app, make_user, agent, frozen_clock):
    login(app.test_client(), agent.email)
    reader = make_user("admin", "zh.admin@example.com", "Zhang Admin", locale="zh_CN")
    reader.timezone = "Europe/London"
    db.session.commit()
    page = _signed_in(app, reader).get(PAGE).get_data(as_text=True)
    assert "安全日志" in page and "登录" in page
    with force_locale("zh_CN"):  # 09:00 UTC in London's winter time, as Chinese writes it
        assert when_in(datetime(2026, 11, 24, 9, tzinfo=timezone.utc), "Europe/London") in page
