"""The record log says a survey's answers by their labels, the three fairness answers included, in
the reader's language (ticketing/cases/log_text.py)."""

from flask_babel import force_locale

from tests.factories import open_case, to_step
from tests.unit.helpers import last_event
from ticketing.cases.log_text import describe
from ticketing.cases.survey import answer_survey


def test_a_survey_is_logged_with_every_answer_under_its_label(app, agent):
    ticket = to_step(open_case(agent), agent, "review")
    answer_survey(ticket, satisfaction=4, recommend=8, buy_again="no", fair_outcome=2, fair_process=3, fair_treatment=5)
    event = last_event(ticket)
    with force_locale("en"):
        shown = {str(label): str(after) for label, _before, after, _new in describe(event)["changes"]}
    assert shown["Fairness of the outcome (1-5)"] == "2"
    assert shown["Fairness of the way it was handled (1-5)"] == "3"
    assert shown["Fairness of the way they were treated (1-5)"] == "5"
    assert shown["Would buy from us again"] == "No" and shown["Satisfaction (1-5)"] == "4"
    with force_locale("zh_CN"):
        labels = [str(label) for label, *_rest in describe(event)["changes"]]
    assert len(labels) >= 6 and not any(letter.isascii() and letter.isalpha() for label in labels for letter in label)
