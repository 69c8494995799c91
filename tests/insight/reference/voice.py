"""What customers say after recovery: the survey's satisfaction (CSAT), NPS, intention to buy
again and perceived fairness, plus the satisfaction staff recorded at the follow-up."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from tests.insight.reference.queries import cohort, latest, ratio
from ticketing.cases.models import Ticket
from ticketing.cases.records import FollowUpRecord
from ticketing.cases.survey import SurveyResponse
from ticketing.extensions import db
from ticketing.insight.charts import BARS, Bar, Chart
from ticketing.insight.filters import Filters
from ticketing.insight.results import COUNT, PERCENT, POINTS, SCORE, TEXT, Column, Result, Stat, display

BUY_AGAIN = {"yes": _l("Yes"), "maybe": _l("Maybe"), "no": _l("No")}
FAIRNESS = {
    "fair_outcome": _l("Fair outcome"),
    "fair_process": _l("Fair process"),
    "fair_treatment": _l("Fair treatment"),
}


def _answers(*columns):
    """Survey answers (SurveyResponse) on the cases of the cohort; every answer counts."""
    return select(*columns).join(Ticket, Ticket.id == SurveyResponse.ticket_id)


def _shares_chart(rows) -> Chart:
    return Chart(
        BARS,
        [
            Bar(str(label), (share,), (f"{display(share, PERCENT)} ({display(count, COUNT)})",))
            for label, count, share in rows
        ],
        axis_max=100,
        axis_kind=PERCENT,
    )


def satisfaction(filters: Filters) -> Result:
    """Satisfaction (CSAT, 1-5) from the customers' survey answers on cases of the cohort (asked after
    every follow-up, satisfied or not): how many gave each score, the average, and how many of the
    answers staff took down on the phone (SurveyResponse.recorded_by_id). Beside it, the average score
    staff recorded at each case's latest follow-up (FollowUpRecord.satisfaction), which every
    followed-up case has."""
    query = (
        _answers(SurveyResponse.satisfaction, func.count())
        .where(*cohort(filters))
        .group_by(SurveyResponse.satisfaction)
    )
    counts = dict(db.session.execute(query).all())
    recorded = db.session.scalar(
        select(func.avg(FollowUpRecord.satisfaction))
        .join(Ticket, Ticket.id == FollowUpRecord.ticket_id)
        .where(*cohort(filters), FollowUpRecord.id == latest(FollowUpRecord.id))
    )
    total = sum(counts.values())
    columns = [Column(_l("Score"), TEXT), Column(_l("Answers"), COUNT), Column(_l("Share"), PERCENT)]
    headline = {
        "follow_up_average": Stat(
            _l("Average score recorded at the follow-up"), float(recorded) if recorded is not None else None, SCORE
        )
    }
    if not total:
        return Result(columns, [], headline=headline)
    rows = [[str(score), counts.get(score, 0), ratio(counts.get(score, 0), total)] for score in range(5, 0, -1)]
    average = sum(score * count for score, count in counts.items()) / total
    by_staff = db.session.scalar(
        _answers(func.count(SurveyResponse.id)).where(*cohort(filters), SurveyResponse.recorded_by_id.is_not(None))
    )
    return Result(
        columns,
        rows,
        _shares_chart(rows),
        headline={
            "average": Stat(_l("Average satisfaction (1-5)"), average, SCORE),
            "answers": Stat(_l("Survey answers"), total, COUNT),
            "taken_by_staff": Stat(_l("Of these, taken down by staff on the phone"), by_staff, COUNT),
        }
        | headline,
    )


def nps(filters: Filters) -> Result:
    """Net Promoter Score from the survey's 0-10 "would you recommend us" (SurveyResponse.recommend):
    promoters 9-10, passives 7-8, detractors 0-6; NPS = % promoters - % detractors (-100 to 100)."""
    group = case(
        (SurveyResponse.recommend >= 9, "promoter"), (SurveyResponse.recommend >= 7, "passive"), else_="detractor"
    )
    counts = dict(db.session.execute(_answers(group, func.count()).where(*cohort(filters)).group_by(group)).all())
    total = sum(counts.values())
    columns = [Column(_l("Group"), TEXT), Column(_l("Answers"), COUNT), Column(_l("Share"), PERCENT)]
    if not total:
        return Result(columns, [])
    labels = {"promoter": _l("Promoters (9-10)"), "passive": _l("Passives (7-8)"), "detractor": _l("Detractors (0-6)")}
    rows = [[label, counts.get(key, 0), ratio(counts.get(key, 0), total)] for key, label in labels.items()]
    score = rows[0][2] - rows[2][2]
    return Result(
        columns,
        rows,
        _shares_chart(rows),
        headline={
            "nps": Stat(_l("Net Promoter Score"), score, POINTS),
            "answers": Stat(_l("Survey answers"), total, COUNT),
        },
    )


def buy_again(filters: Filters) -> Result:
    """Would buy again: the survey's answer yes / maybe / no (SurveyResponse.buy_again), as shares of
    the answers on cases of the cohort."""
    query = _answers(SurveyResponse.buy_again, func.count()).where(*cohort(filters)).group_by(SurveyResponse.buy_again)
    counts = dict(db.session.execute(query).all())
    total = sum(counts.values())
    columns = [Column(_l("Would buy again"), TEXT), Column(_l("Answers"), COUNT), Column(_l("Share"), PERCENT)]
    if not total:
        return Result(columns, [])
    rows = [[label, counts.get(key, 0), ratio(counts.get(key, 0), total)] for key, label in BUY_AGAIN.items()]
    return Result(
        columns, rows, _shares_chart(rows), headline={"yes": Stat(_l("Would buy again"), rows[0][2], PERCENT)}
    )


def fairness(filters: Filters) -> Result:
    """Perceived fairness: the average of the survey's three 1-5 questions on the cases of the
    cohort: the outcome (distributive), the process (procedural) and the treatment (interactional)."""
    averages = db.session.execute(
        _answers(func.count(), *(func.avg(getattr(SurveyResponse, name)) for name in FAIRNESS)).where(*cohort(filters))
    ).one()
    columns = [Column(_l("Question"), TEXT), Column(_l("Answers"), COUNT), Column(_l("Average (1-5)"), SCORE)]
    count = averages[0]
    if not count:
        return Result(columns, [])
    rows = [[label, count, float(value)] for label, value in zip(FAIRNESS.values(), averages[1:])]
    chart = Chart(
        BARS,
        [Bar(str(label), (value,), (display(value, SCORE),)) for label, _count, value in rows],
        axis_max=5,
        axis_kind=SCORE,
    )
    return Result(columns, rows, chart)
