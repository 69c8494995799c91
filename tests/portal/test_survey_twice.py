"""A survey sent twice (a double click, two tabs, two at the same moment) is kept once and answered
with a clear 409 and the reason, never a 500."""

from sqlalchemy import func, select

from tests.portal.test_portal import _case_at
from ticketing.cases import survey
from ticketing.cases.audit import Event
from ticketing.cases.survey import SurveyResponse
from ticketing.extensions import db

ANSWERS = {
    "satisfaction": "4",
    "recommend": "9",
    "buy_again": "yes",
    "fair_outcome": "4",
    "fair_process": "5",
    "fair_treatment": "5",
    "comment": "Good",
}
ALREADY = "Your answers to this survey are already saved. Thank you!"


def _kept() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(SurveyResponse.id))),
        db.session.scalar(select(func.count(Event.id)).where(Event.action == "rate")),
    )


def test_a_second_answer_is_refused_with_the_reason(client, agent, supervisor):
    _case_at(agent, supervisor, "review", client)
    assert client.post("/track/survey", data=ANSWERS).status_code == 302
    again = client.post("/track/survey", data=ANSWERS)
    assert again.status_code == 409 and ALREADY in again.get_data(as_text=True)
    assert _kept() == (1, 1)


def test_two_answers_at_the_same_moment_keep_one_and_refuse_the_other(client, agent, supervisor, monkeypatch):
    _case_at(agent, supervisor, "review", client)
    assert client.post("/track/survey", data=ANSWERS).status_code == 302
    # The second request checked before the first had saved: only the unique answer per follow-up stops it.
    monkeypatch.setattr(survey, "_answered", lambda follow_up: False)
    raced = client.post("/track/survey", data=ANSWERS)
    assert raced.status_code == 409 and ALREADY in raced.get_data(as_text=True)
    assert _kept() == (1, 1)
