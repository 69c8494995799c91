"""Every state the customer can be in says what happens next and by when: the follow-up call's date,
and once closed, until when the case may be reopened."""

from datetime import date, datetime, timezone

from flask_babel import force_locale

from tests.factories import open_case, to_step
from ticketing.cases import services
from ticketing.cases.portal_access import issue_token
from ticketing.extensions import db
from ticketing.i18n import day, when_in


def tracking_page(app, ticket) -> str:
    token = issue_token(ticket)
    db.session.commit()
    client = app.test_client()
    opened = client.get(f"/track/{token}")  # swapped for a session and a clean address
    return client.get(opened.headers["Location"]).get_data(as_text=True)


def test_after_the_remedy_the_page_says_by_when_we_will_call(app, agent, frozen_clock):
    ticket = to_step(open_case(agent), agent, "follow_up")  # carried out at 17:00 Shanghai; call 48 hours later
    page = tracking_page(app, ticket)
    with force_locale("en"):  # the desk's time in Shanghai, 48 hours after 24 November 09:00 UTC
        assert f"We will call you by {when_in(datetime(2026, 11, 26, 9, tzinfo=timezone.utc), 'Asia/Shanghai')}" in page


def test_a_closed_case_says_until_when_it_may_be_reopened(app, agent, supervisor, frozen_clock):
    ticket = to_step(open_case(agent), agent, "review")
    services.record_review(ticket, agent, version=ticket.version, summary="Replaced", lesson="Seals")
    services.approve_review(ticket, supervisor, version=ticket.version)
    db.session.commit()
    page = tracking_page(app, ticket)
    with force_locale("en"):
        assert f"you can reopen the case here until {day(date(2026, 12, 24))}" in page  # the day, then the time
    frozen_clock.move(days=31)
    assert "reopen the case here until" not in tracking_page(app, ticket)
