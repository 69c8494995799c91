"""Every staff route checks the role: a role × route matrix over the whole URL map."""

import pytest

from tests.conftest import login
from tests.factories import open_case

ANYONE, STAFF, SUPERVISORS, ADMINS, SIGNED_IN = "anyone", "staff", "supervisors", "admins", "signed-in"
LINK_HOLDERS = "link-holders"  # the customer's private link opens these; no role does
TOKEN_HOLDERS = "token-holders"  # the API: only a bearer token opens these, never a session cookie
PROBES = "probes"  # health, readiness, metrics: for machines, answered in JSON or text to anyone (tests/ops)
ALLOWED = {
    STAFF: {"agent", "supervisor", "admin"},
    SUPERVISORS: {"supervisor", "admin"},
    ADMINS: {"admin"},
    SIGNED_IN: {"agent", "supervisor", "admin"},
}

# endpoint -> (who may use it, method, url arguments). New routes must be added here.
ROUTES = {
    "static": (ANYONE, "GET", {"filename": "css/app.css"}),
    "auth.login": (ANYONE, "GET", {}),
    "auth.language": (ANYONE, "POST", {}),
    "auth.logout": (SIGNED_IN, "POST", {}),
    "auth.account": (SIGNED_IN, "GET", {}),
    "auth.create_token": (SIGNED_IN, "POST", {}),
    "auth.revoke_token": (SIGNED_IN, "POST", {"token_id": "999999"}),
    "desk.home": (STAFF, "GET", {}),
    "desk.queue": (STAFF, "GET", {}),
    "queues.reassign": (SUPERVISORS, "POST", {}),
    "queues.hand_over": (SUPERVISORS, "POST", {}),
    "queues.save_view": (STAFF, "POST", {}),
    "queues.delete_view": (STAFF, "POST", {"view_id": "999999"}),
    "search.index": (STAFF, "GET", {}),
    "desk.intake": (STAFF, "GET", {}),
    "desk.customer_lookup": (STAFF, "GET", {}),
    "desk.customer": (STAFF, "GET", {"customer_id": "{customer_id}"}),
    "desk.update_customer": (STAFF, "POST", {"customer_id": "{customer_id}"}),
    "desk.find_duplicate": (STAFF, "GET", {"customer_id": "{customer_id}"}),
    "desk.merge_customer": (STAFF, "GET", {"customer_id": "{customer_id}", "other_id": "999999"}),
    "desk.case": (STAFF, "GET", {"reference": "{ref}"}),
    "desk.act": (STAFF, "POST", {"reference": "{ref}", "action": "note"}),
    "desk.revoke_links": (STAFF, "POST", {"reference": "{ref}"}),
    "replies.index": (SUPERVISORS, "GET", {}),
    "replies.edit": (SUPERVISORS, "GET", {}),
    "users.index": (ADMINS, "GET", {}),
    "users.edit": (ADMINS, "GET", {"user_id": "{user_id}"}),
    "notifications.index": (STAFF, "GET", {}),
    "notifications.unread": (STAFF, "GET", {}),
    "notifications.open_one": (STAFF, "POST", {"notification_id": "999999"}),
    "notifications.mark_all_read": (STAFF, "POST", {}),
    "notifications.edit_preferences": (STAFF, "GET", {}),
    "portal.complain": (ANYONE, "GET", {}),
    "portal.received": (ANYONE, "GET", {}),
    "portal.lost_link": (ANYONE, "GET", {}),
    "portal.track": (LINK_HOLDERS, "GET", {}),
    "portal.open_link": (LINK_HOLDERS, "GET", {"token": "not-a-token"}),
    "portal.answer": (LINK_HOLDERS, "POST", {}),
    "portal.survey": (LINK_HOLDERS, "POST", {}),
    "portal.reopen": (LINK_HOLDERS, "POST", {}),
    "portal.attachment": (LINK_HOLDERS, "GET", {"attachment_id": "999999"}),
    "desk.attachment": (STAFF, "GET", {"reference": "{ref}", "attachment_id": "999999"}),
    "review.queue": (SUPERVISORS, "GET", {}),
    "review.case": (SUPERVISORS, "GET", {"reference": "{ref}"}),
    "review.add_action": (SUPERVISORS, "POST", {"reference": "{ref}"}),
    "review.approvals": (SUPERVISORS, "GET", {}),
    "review.lessons": (STAFF, "GET", {}),
    "review.update_action": (STAFF, "POST", {"action_id": "999999", "verb": "done"}),
    "review.quality": (SUPERVISORS, "GET", {}),
    "review.score": (SUPERVISORS, "GET", {"score_id": "999999"}),
    "scheduler_admin.index": (SUPERVISORS, "GET", {}),
    "mail_admin.index": (SUPERVISORS, "GET", {}),
    "mail_admin.show": (SUPERVISORS, "GET", {"mail_id": "999999"}),
    "mail_admin.original": (SUPERVISORS, "GET", {"mail_id": "999999"}),
    "scheduler_admin.retry": (SUPERVISORS, "POST", {"reminder_id": "999999"}),
    "scheduler_admin.retry_delivery": (SUPERVISORS, "POST", {"delivery_id": "999999"}),
    "record_log.index": (SUPERVISORS, "GET", {}),
    "record_log.export": (SUPERVISORS, "GET", {}),
    "record_log.report": (STAFF, "GET", {"reference": "{ref}"}),
    "record_log.check_chain": (SUPERVISORS, "GET", {"reference": "{ref}"}),
    "insight.dashboard": (SUPERVISORS, "GET", {}),
    "insight.export": (SUPERVISORS, "GET", {"figure": "volume"}),
    "insight_risk.at_risk": (SUPERVISORS, "GET", {}),
    "insight_risk.at_risk_csv": (SUPERVISORS, "GET", {}),
    "insight_risk.start_win_back": (SUPERVISORS, "POST", {"customer_id": "999999"}),
    "insight_risk.win_back": (STAFF, "GET", {}),
    "insight_risk.close_win_back": (STAFF, "POST", {"action_id": "999999", "verb": "done"}),
    "insight_risk.warnings_page": (SUPERVISORS, "GET", {}),
    "insight_risk.warnings_csv": (SUPERVISORS, "GET", {"kind": "category"}),
    "insight_risk.team_page": (SUPERVISORS, "GET", {}),
    "insight_risk.team_csv": (SUPERVISORS, "GET", {}),
    "settings_admin.index": (SUPERVISORS, "GET", {}),
    "settings_admin.save": (SUPERVISORS, "POST", {"section": "timing"}),
    "settings_admin.import_calendar": (SUPERVISORS, "POST", {}),
    "settings_admin.recompute": (SUPERVISORS, "POST", {}),
    "settings_admin.history": (SUPERVISORS, "GET", {}),
    "security_log.index": (ADMINS, "GET", {}),
    "security_log.export": (ADMINS, "GET", {}),
    "api.create_ticket": (TOKEN_HOLDERS, "POST", {}),
    "api.list_tickets": (TOKEN_HOLDERS, "GET", {}),
    "api.get_ticket": (TOKEN_HOLDERS, "GET", {"reference": "{ref}"}),
    "api.act": (TOKEN_HOLDERS, "POST", {"reference": "{ref}", "action": "note"}),
    "api.post_message": (TOKEN_HOLDERS, "POST", {"reference": "{ref}"}),
    "api.list_events": (TOKEN_HOLDERS, "GET", {"reference": "{ref}"}),
    "api.list_customers": (TOKEN_HOLDERS, "GET", {}),
    "api.get_customer": (TOKEN_HOLDERS, "GET", {"customer_id": "1"}),
    "api.list_catalogues": (TOKEN_HOLDERS, "GET", {}),
    "api.read_settings": (TOKEN_HOLDERS, "GET", {}),
    "api.change_settings": (TOKEN_HOLDERS, "PATCH", {}),
    "api.openapi": (ANYONE, "GET", {}),
    "api.docs": (ANYONE, "GET", {}),
    "catalogues.index": (SUPERVISORS, "GET", {}),
    "catalogues.add_entry": (SUPERVISORS, "POST", {"kind": "categories"}),
    "catalogues.edit_entry": (SUPERVISORS, "GET", {"kind": "tiers", "item_id": "1"}),
    "catalogues.set_active": (SUPERVISORS, "POST", {"kind": "products", "item_id": "999999"}),
    "catalogues.add_product": (SUPERVISORS, "POST", {}),
    "catalogues.product": (SUPERVISORS, "GET", {"product_id": "999999"}),
    "catalogues.add_alias": (SUPERVISORS, "POST", {"product_id": "999999"}),
    "catalogues.merge": (SUPERVISORS, "GET", {"product_id": "999999"}),
    "ops.healthz": (ANYONE, "GET", {}),
    "ops.readyz": (PROBES, "GET", {}),
    "ops.prometheus": (PROBES, "GET", {}),
}


def test_every_route_is_in_the_permission_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTES), "classify new routes in ROUTES"


@pytest.mark.parametrize("role", [None, "agent", "supervisor", "admin"])
@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_route_answers_by_role(app, make_user, endpoint, role):
    from flask import url_for

    owner = make_user("agent")
    ticket = open_case(owner)
    who, method, args = ROUTES[endpoint]
    ids = {"ref": ticket.reference, "user_id": owner.id, "customer_id": ticket.customer_id}
    args = {key: str(value).format(**ids) for key, value in args.items()}
    with app.test_request_context():
        url = url_for(endpoint, **args)
    client = app.test_client()
    if role:
        user = make_user(role)
        assert login(client, user.email).status_code == 302
    response = client.open(url, method=method, data={"body": "hello"})
    if who == ANYONE:
        assert response.status_code < 400
    elif who == TOKEN_HOLDERS:
        assert response.status_code == 401  # signed in or not: the session cookie is no API credential
    elif who == LINK_HOLDERS:
        assert response.status_code == 404  # staff and strangers alike: no case is revealed
    elif who == PROBES:  # a session changes nothing: ready or not (503), this machine's scrape or not (403)
        assert response.status_code in (200, 403, 503) and "Set-Cookie" not in response.headers
    elif role is None:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    elif role in ALLOWED[who]:
        missing_row = (404,) if "999999" in url else ()  # allowed in, but there is no such row
        assert response.status_code in (200, 302, 409, 422, *missing_row), response.status_code
    else:
        assert response.status_code == 403
