"""The settings through the API: read by any staff token, changed by administrators' tokens only, a
refused value naming the setting and saving nothing, every answer as the OpenAPI document says."""

import pytest
from sqlalchemy import func, select

from tests.api.test_api_openapi import conforms
from ticketing.cases import settings
from ticketing.cases.settings import KEYS, SettingChange
from ticketing.extensions import db

SETTINGS = "/api/v1/settings"


@pytest.fixture
def openapi(client):
    return client.get("/api/v1/openapi.json").get_json()


def _in_force(app) -> settings.DeskSettings:
    with app.app_context():
        return settings.desk()


def _changes() -> int:
    return db.session.scalar(select(func.count(SettingChange.id)))


def test_an_agent_token_reads_every_setting_with_its_section_and_who_may_change_it(openapi, api):
    body = conforms(openapi, "get", SETTINGS, 200, api.get(SETTINGS))
    assert set(body["settings"]) == set(KEYS)
    currency = {"value": "CNY", "section": "money", "label": "Currency", "may_change": False}
    assert body["settings"]["currency"] == currency
    assert body["settings"]["deadline_hours"]["value"]["urgent"] == [1.0, 24.0]
    assert not any(setting["may_change"] for setting in body["settings"].values())
    assert body["writable"] is False and body["changed"] == []


def test_the_labels_follow_the_language_asked_for(api):
    body = api.get(SETTINGS, headers={"Accept-Language": "zh-CN"}).get_json()
    assert body["settings"]["holidays"]["label"] == "节假日"


def test_a_supervisor_token_may_not_change_settings(app, openapi, make_api, supervisor):
    boss = make_api(supervisor)
    body = boss.get(SETTINGS).get_json()
    assert body["settings"]["digest_hour"]["may_change"] is True  # on the settings page
    assert body["settings"]["currency"]["may_change"] is False and body["writable"] is False
    refused = conforms(openapi, "patch", SETTINGS, 403, boss.patch(SETTINGS, json={"digest_hour": 9}))
    assert refused["type"] == "/api/v1/problems/forbidden"
    assert (_in_force(app).digest_hour, _changes()) == (8, 0)


def test_an_admin_token_changes_settings_recorded_and_in_force(app, openapi, make_api, admin):
    body = conforms(
        openapi,
        "patch",
        SETTINGS,
        200,
        make_api(admin).patch(
            SETTINGS,
            json={
                "digest_hour": 9,
                "holidays": ["2026-10-02", "2026-10-01"],
                "business_hours": {"0": ["9:00", "18:00"], "5": ["10:00", "16:00"]},
                "compensation_limits": {"agent": "300", "supervisor": 6000, "admin": 20000},
                "currency": "CNY",
            },
        ),
    )
    assert sorted(body["changed"]) == ["business_hours", "compensation_limits", "digest_hour", "holidays"]
    assert body["writable"] is True and body["settings"]["holidays"]["value"] == ["2026-10-01", "2026-10-02"]
    in_force = _in_force(app)
    assert in_force.digest_hour == 9 and in_force.compensation_limits["supervisor"] == 6000
    assert in_force.business_hours["0"] == ["09:00", "18:00"] and in_force.business_hours["1"] is None
    rows = list(db.session.scalars(select(SettingChange).where(SettingChange.key == "digest_hour")))
    assert [(row.old_value, row.new_value, row.changed_by_id) for row in rows] == [(8, 9, admin.id)]

    body = make_api(admin).patch(SETTINGS, json={"business_hours": None}).get_json()
    assert body["changed"] == ["business_hours"] and _in_force(app).business_hours is None


def test_a_refused_value_names_the_setting_and_saves_nothing(app, openapi, make_api, admin):
    response = make_api(admin).patch(SETTINGS, json={"digest_hour": 9, "at_risk_fraction": 2})
    body = conforms(openapi, "patch", SETTINGS, 422, response)
    assert body["type"] == "/api/v1/problems/setting"
    reason = "Enter a number from 0.05 to 0.99."
    assert body["errors"] == [{"field": "at_risk_fraction", "message": reason, "type": "setting"}]
    body = conforms(
        openapi, "patch", SETTINGS, 422, make_api(admin).patch(SETTINGS, json={"deadline_hours": {"urgent": [30, 24]}})
    )
    assert body["errors"][0]["field"] == "deadline_hours"
    assert (_in_force(app).digest_hour, _changes()) == (8, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"colour": "red"},
        {"digest_hour": None},
        {"digest_hour": 9.5},
        {"digest_hour": "9"},
        {"business_hours": {"0": "09:00-18:00"}},
        {"business_hours": {"7": ["09:00", "18:00"]}},
        {"business_hours": {"0": ["²:00", "18:00"]}},
        {"holidays": "2026-10-01"},
        {"holidays": [20261001]},
        {"deadline_hours": {"urgent": [1]}},
        {"deadline_hours": {"soon": [1, 2]}},
        {"service_guarantee": {"low": [["cash", 5]]}},
        {"service_guarantee": {"low": ["voucher"]}},
        {"category_deadline_hours": {"Billing\u0000": [1, 2]}},
        {"compensation_limits": {"agent": "NaN", "supervisor": 1, "admin": 1}},
        {"auto_escalate_on_breach": "yes"},
    ],
)
def test_a_body_not_of_the_settings_shapes_is_refused_before_the_store(app, openapi, make_api, admin, body):
    response = make_api(admin).patch(SETTINGS, json=body)
    assert conforms(openapi, "patch", SETTINGS, 422, response)["type"] == "/api/v1/problems/validation"
    assert _changes() == 0


def test_a_read_only_admin_token_may_not_write(openapi, make_api, admin):
    reader = make_api(admin, read_only=True)
    assert reader.get(SETTINGS).get_json()["writable"] is False
    conforms(openapi, "patch", SETTINGS, 403, reader.patch(SETTINGS, json={"digest_hour": 9}))
    conforms(openapi, "patch", SETTINGS, 415, make_api(admin).patch(SETTINGS, data="digest_hour=9"))
    conforms(openapi, "get", SETTINGS, 401, reader.client.get(SETTINGS))
