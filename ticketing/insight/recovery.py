"""Whether recovery works: compensation granted against the loss, customers retained or lost after
the follow-up (and why they left), and satisfaction after recovery against the customer's earlier ratings."""

from flask_babel import ngettext
from sqlalchemy import case, func, select

from ticketing.cases.facts import CaseFacts
from ticketing.cases.models import Customer
from ticketing.cases.records import CompensationLine, Resolution
from ticketing.cases.vocabulary import (
    COMPENSATION_KIND_OF,
    ChurnCause,
    ChurnType,
    CompensationKind,
    ResolutionState,
    Retention,
)
from ticketing.extensions import db
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.insight.charts import BARS, Bar, Chart
from ticketing.insight.filters import Filters
from ticketing.insight.queries import cases, cohort, ordered, ratio, remembered
from ticketing.insight.results import COUNT, MONEY, PERCENT, SCORE, TEXT, Column, Money, Result, Stat, display


def _granted(filters: Filters) -> list:
    """Resolutions of the cohort that were carried out: the compensation actually given."""
    return [*cohort(filters), Resolution.state == ResolutionState.CARRIED_OUT]


def compensation(filters: Filters) -> Result:
    """Compensation granted per type: the lines (CompensationLine) of every resolution carried out
    (Resolution.state carried_out) on a case of the cohort, counted and summed per currency."""
    query = (
        select(
            CompensationLine.type,
            CompensationLine.currency,
            func.count(CompensationLine.id),
            func.sum(CompensationLine.amount),
        )
        .join(Resolution, Resolution.id == CompensationLine.resolution_id)
        .join(CaseFacts, CaseFacts.ticket_id == Resolution.ticket_id)
        .where(*_granted(filters))
        .group_by(CompensationLine.type, CompensationLine.currency)
    )
    found = sorted(db.session.execute(query), key=lambda row: (-row[2], row[0].value, row[1]))
    columns = [
        Column(_l("Compensation"), TEXT),
        Column(_l("Kind"), TEXT),
        Column(_l("Lines granted"), COUNT),
        Column(_l("Amount"), MONEY),
        Column(_l("Currency"), TEXT),
    ]
    rows = [
        [kind.label, COMPENSATION_KIND_OF[kind].label, count, Money(amount, currency) if amount else None, currency]
        for kind, currency, count, amount in found
    ]
    chart = Chart(
        BARS,
        [
            Bar(f"{name} ({kind})", (count,), (display(count, COUNT),), display(amount, MONEY) if amount else "")
            for name, kind, count, amount, _currency in rows
        ],
    )
    return Result(columns, rows, chart)


def _line_total(*where):
    return (
        select(func.coalesce(func.sum(CompensationLine.amount), 0))
        .where(CompensationLine.resolution_id == Resolution.id, *where)
        .scalar_subquery()
    )


def compensation_against_loss(filters: Filters) -> Result:
    """Economic and emotional compensation granted (resolutions carried out, as above) against the
    customer's loss as estimated on the proposal (Resolution.estimated_loss), per currency. The
    share compares compensation with the loss over the resolutions that have an estimated loss."""
    economic = _line_total(CompensationLine.kind == CompensationKind.ECONOMIC)
    emotional = _line_total(CompensationLine.kind == CompensationKind.EMOTIONAL)
    per = (
        select(
            Resolution.currency,
            economic.label("economic"),
            emotional.label("emotional"),
            Resolution.estimated_loss.label("loss"),
        )
        .join(CaseFacts, CaseFacts.ticket_id == Resolution.ticket_id)
        .where(*_granted(filters))
        .cte("granted")
        .prefix_with("MATERIALIZED")
    )
    with_loss = per.c.loss > 0
    query = (
        select(
            per.c.currency,
            func.count(),
            func.sum(per.c.economic),
            func.sum(per.c.emotional),
            func.sum(case((with_loss, per.c.loss))),
            func.sum(case((with_loss, per.c.economic + per.c.emotional))),
        )
        .group_by(per.c.currency)
        .order_by(func.count().desc())
    )
    columns = [
        Column(_l("Currency"), TEXT),
        Column(_l("Resolutions carried out"), COUNT),
        Column(_l("Economic compensation"), MONEY),
        Column(_l("Emotional compensation"), MONEY),
        Column(_l("Estimated loss"), MONEY),
        Column(_l("Compensation as a share of the loss"), PERCENT),
    ]
    rows = [
        [
            currency,
            count,
            Money(economic or 0, currency),
            Money(emotional or 0, currency),
            Money(loss, currency) if loss else None,
            ratio(compared, loss),
        ]
        for currency, count, economic, emotional, loss, compared in db.session.execute(query)
    ]
    names = (_("Economic compensation"), _("Emotional compensation"), _("Estimated loss"))
    bars = [
        Bar(
            f"{name} ({row[0]})" if len(rows) > 1 else name,
            (float(money.amount) if money else 0,),
            (display(money, MONEY),),
        )
        for row in rows
        for name, money in zip(names, row[2:5])
    ]
    headline = {"share": Stat(_l("Compensation as a share of the loss"), rows[0][5], PERCENT)} if rows else {}
    return Result(columns, rows, Chart(BARS, bars), headline=headline)


def _latest_follow_up_per_customer(filters: Filters):
    """Each complainant's latest follow-up on a case of the cohort: the customer's standing now (the
    largest of their cases' latest follow-ups)."""
    return (
        select(func.max(CaseFacts.follow_up_id).label("id"))
        .where(*cohort(filters), CaseFacts.follow_up_id.is_not(None))
        .group_by(CaseFacts.customer_id)
        .subquery()
    )


def _standings(filters: Filters) -> list[tuple]:
    """(retention, churn type, churn cause, customers) of each customer's latest follow-up (see above):
    one grouping the recovery rate, the churn types and the churn causes share."""

    def compute():
        standing = _latest_follow_up_per_customer(filters)
        judged = (CaseFacts.retention, CaseFacts.churn_type, CaseFacts.churn_cause)
        query = (
            select(*judged, func.count())
            .select_from(CaseFacts)
            .join(standing, standing.c.id == CaseFacts.follow_up_id)
            .group_by(*judged)
        )
        return [tuple(row) for row in db.session.execute(query)]

    return remembered("standings", filters, compute)


def _summed(pairs) -> dict:
    counts: dict = {}
    for key, count in pairs:
        counts[key] = counts.get(key, 0) + count
    return counts


def retention(filters: Filters) -> Result:
    """Recovery rate. The customers followed up (a FollowUpRecord on a case of the cohort), each
    counted once by their latest follow-up's judgement (FollowUpRecord.retention). As DOMAIN.md
    defines them: retention rate = retained / all customers followed up x 100%, churn rate =
    lost / all x 100%; the customers still at risk make up the rest (without them, retention =
    1 - churn)."""
    counts = _summed((judged, count) for judged, _type, _cause, count in _standings(filters))
    total = sum(counts.values())
    columns = [
        Column(_l("After the follow-up"), TEXT),
        Column(_l("Customers"), COUNT),
        Column(_l("Share of the customers followed up"), PERCENT),
    ]
    if not total:
        return Result(columns, [])
    of_all = ngettext("of %(num)d customer followed up", "of %(num)d customers followed up", total)
    rows = [[value.label, count, ratio(count, total)] for value, count in ordered(counts, list(Retention))]
    chart = Chart(
        BARS,
        [
            Bar(label, (share,), (f"{display(share, PERCENT)} ({display(count, COUNT)})",))
            for label, count, share in rows
        ],
        axis_max=100,
        axis_kind=PERCENT,
    )
    return Result(
        columns,
        rows,
        chart,
        headline={
            "retention_rate": Stat(
                _("Retention rate, %(of_all)s", of_all=of_all), ratio(counts.get(Retention.RETAINED, 0), total), PERCENT
            ),
            "churn_rate": Stat(
                _("Churn rate, %(of_all)s", of_all=of_all), ratio(counts.get(Retention.LOST, 0), total), PERCENT
            ),
            "followed_up": Stat(_l("Customers followed up"), total, COUNT),
        },
        notes=[
            ngettext(
                "Each share is of %(num)d customer followed up (each customer counted once).",
                "Each share is of %(num)d customers followed up (each customer counted once).",
                total,
            )
        ],
    )


def churn_types(filters: Filters) -> Result:
    """Lost customers by churn type: the customers whose latest follow-up (as in the recovery rate)
    judged them lost, per FollowUpRecord.churn_type; "not stated" when none was recorded."""
    counts = _summed(
        (churn_type, count) for judged, churn_type, _cause, count in _standings(filters) if judged == Retention.LOST
    )
    total = sum(counts.values())
    columns = [
        Column(_l("Churn type"), TEXT),
        Column(_l("Lost customers"), COUNT),
        Column(_l("Share of the lost customers"), PERCENT),
    ]
    if not total:
        return Result(columns, [])
    rows = [
        [value.label if value else _("Not stated"), count, ratio(count, total)]
        for value, count in ordered(counts, list(ChurnType))
    ]
    chart = Chart(BARS, [Bar(label, (count,), (display(count, COUNT),)) for label, count, _share in rows])
    note = ngettext(
        "Each share is of %(num)d customer judged lost at their latest follow-up.",
        "Each share is of %(num)d customers judged lost at their latest follow-up.",
        total,
    )
    return Result(columns, rows, chart, notes=[note])


def churn_causes(filters: Filters) -> Result:
    """Why customers leave: the customers whose latest follow-up (as in the recovery rate) judged them
    lost or at risk, per FollowUpRecord.churn_cause (seed 000's causes), lost and at risk apart; the share
    is of all of them; "not stated" for follow-ups recorded before causes were."""
    per: dict = {}
    for judged, _type, cause, count in _standings(filters):
        if judged in (Retention.LOST, Retention.AT_RISK):
            per.setdefault(cause, {})
            per[cause][judged] = per[cause].get(judged, 0) + count
    total = sum(sum(judged.values()) for judged in per.values())
    columns = [
        Column(_l("Cause of churn"), TEXT),
        Column(_l("Lost"), COUNT),
        Column(_l("At risk"), COUNT),
        Column(_l("Share of the customers lost or at risk"), PERCENT),
    ]
    if not total:
        return Result(columns, [])
    rows = []
    for cause, judged in ordered(per, list(ChurnCause)):
        judged = judged or {}
        lost, at_risk = judged.get(Retention.LOST, 0), judged.get(Retention.AT_RISK, 0)
        rows.append([cause.label if cause else _("Not stated"), lost, at_risk, ratio(lost + at_risk, total)])
    chart = Chart(
        BARS, [Bar(label, (lost + at_risk,), (display(lost + at_risk, COUNT),)) for label, lost, at_risk, _s in rows]
    )
    note = ngettext(
        "Each share is of %(num)d customer judged lost or at risk at their latest follow-up.",
        "Each share is of %(num)d customers judged lost or at risk at their latest follow-up.",
        total,
    )
    return Result(columns, rows, chart, notes=[note])


def recovery_paradox(filters: Filters) -> Result:
    """Satisfaction after recovery against the customer's earlier rating. For each case of the
    cohort with a survey answer, its latest answer (SurveyResponse.satisfaction, 1-5) is set
    against the same customer's latest answer given before this case was opened (on another
    case); cases whose customer had never rated us before are left out."""
    after, earlier_rating = CaseFacts.rating_after, CaseFacts.rating_before
    higher_now, same_now = case((after > earlier_rating, 1), else_=0), case((after == earlier_rating, 1), else_=0)
    count, mean_before, mean_after, higher, same = db.session.execute(
        select(func.count(), func.avg(earlier_rating), func.avg(after), func.sum(higher_now), func.sum(same_now)).where(
            *cohort(filters), after.is_not(None), earlier_rating.is_not(None)
        )
    ).one()
    columns = [
        Column(_l("Rating after recovery"), TEXT),
        Column(_l("Number of cases"), COUNT),
        Column(_l("Share"), PERCENT),
    ]
    if not count:
        return Result(columns, [])
    lower = count - higher - same
    rows = [
        [_l("Higher than before"), higher, ratio(higher, count)],
        [_l("The same"), same, ratio(same, count)],
        [_l("Lower than before"), lower, ratio(lower, count)],
    ]
    chart = Chart(
        BARS,
        [Bar(str(label), (share,), (f"{display(share, PERCENT)} ({display(n, COUNT)})",)) for label, n, share in rows],
        axis_max=100,
        axis_kind=PERCENT,
    )
    return Result(
        columns,
        rows,
        chart,
        headline={
            "before": Stat(_l("Average earlier rating"), float(mean_before), SCORE),
            "after": Stat(_l("Average rating after recovery"), float(mean_after), SCORE),
            "pairs": Stat(_l("Cases compared"), count, COUNT),
        },
    )


def repeat_complainants(filters: Filters) -> Result:
    """Repeat complainants: customers with two or more cases opened in the period (cases matching
    the filters, merged duplicates not counted), against all customers who complained in it; the
    table lists the ten with the most cases."""
    cohort_cases = cases(filters, customer_id=CaseFacts.customer_id)
    per = (
        select(cohort_cases.c.customer_id, func.count().label("cases"))
        .group_by(cohort_cases.c.customer_id)
        .cte("per_customer")
        .prefix_with("MATERIALIZED")
    )
    complainants, repeat = db.session.execute(
        select(func.count(), func.sum(case((per.c.cases >= 2, 1), else_=0)))
    ).one()
    top = db.session.execute(
        select(Customer.name, per.c.cases)
        .join(per, per.c.customer_id == Customer.id)
        .where(per.c.cases >= 2)
        .order_by(per.c.cases.desc(), Customer.name)
        .limit(10)
    ).all()
    columns = [Column(_l("Customer"), TEXT), Column(_l("Cases in the period"), COUNT)]
    rows = [[name, cases] for name, cases in top]
    chart = Chart(BARS, [Bar(name, (cases,), (display(cases, COUNT),)) for name, cases in rows])
    return Result(
        columns,
        rows,
        chart,
        headline={
            "repeat": Stat(_l("Repeat complainants"), repeat or 0, COUNT),
            "share": Stat(_l("Share of all complainants"), ratio(repeat, complainants), PERCENT),
            "complainants": Stat(_l("Complainants"), complainants or 0, COUNT),
        },
    )
