"""What customers say after recovery: the survey's satisfaction (CSAT), NPS, intention to buy
again and perceived fairness, plus the satisfaction staff recorded at the follow-up."""

from sqlalchemy import func, select

from ticketing.cases.facts import CaseFacts
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.insight.charts import BARS, Bar, Chart
from ticketing.insight.filters import Filters
from ticketing.insight.queries import cohort, ratio
from ticketing.insight.results import COUNT, PERCENT, POINTS, SCORE, TEXT, Column, Result, Stat, display

BUY_AGAIN = {"yes": _l("Yes"), "maybe": _l("Maybe"), "no": _l("No")}
FAIRNESS = {
    "fair_outcome": _l("Fair outcome"),
    "fair_process": _l("Fair process"),
    "fair_treatment": _l("Fair treatment"),
}


def _answers(filters: Filters, *names: str) -> list[int]:
    """Sums over the cases of the cohort of the named per-case survey tallies (CaseFacts: every
    answer counts), in one query."""
    query = select(*(func.coalesce(func.sum(CaseFacts.__table__.c[name]), 0) for name in names))
    return [int(value) for value in db.session.execute(query.where(*cohort(filters))).one()]


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
    *scores, by_staff = _answers(filters, *(f"score_{score}" for score in range(1, 6)), "by_staff")
    counts = {score: count for score, count in zip(range(1, 6), scores) if count}
    recorded = db.session.scalar(select(func.avg(CaseFacts.follow_up_satisfaction)).where(*cohort(filters)))
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
    counts = dict(zip(("promoter", "passive", "detractor"), _answers(filters, "promoters", "passives", "detractors")))
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
    counts = dict(zip(BUY_AGAIN, _answers(filters, *(f"buy_{key}" for key in BUY_AGAIN))))
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
    count, *sums = _answers(filters, "answers", *FAIRNESS)
    columns = [Column(_l("Question"), TEXT), Column(_l("Answers"), COUNT), Column(_l("Average (1-5)"), SCORE)]
    if not count:
        return Result(columns, [])
    rows = [[label, count, total / count] for label, total in zip(FAIRNESS.values(), sums)]
    chart = Chart(
        BARS,
        [Bar(str(label), (value,), (display(value, SCORE),)) for label, _count, value in rows],
        axis_max=5,
        axis_kind=SCORE,
    )
    return Result(columns, rows, chart)
