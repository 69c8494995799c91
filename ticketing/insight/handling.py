"""How fast complaints are handled: time to response, apology and resolution, deadlines kept,
where open cases stall, and how many are resolved at the first attempt."""

from sqlalchemy import Float, and_, case, func, literal, or_, select

from ticketing.cases.facts import STEP_SPANS, TOOK, CaseFacts
from ticketing.cases.vocabulary import STEP_ORDER, Status
from ticketing.extensions import db
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.insight.charts import BARS, Bar, Chart
from ticketing.insight.filters import Filters
from ticketing.insight.queries import cases, cohort, ratio, seconds, spreads
from ticketing.insight.results import COUNT, HOURS, PERCENT, TEXT, Column, Result, Stat, display
from ticketing.types import UTCDateTime

MEASURES = {
    "response": _l("First response"),
    "apology": _l("Apology"),
    "resolution": _l("Resolution carried out"),
}
SERIES = (_l("Median"), _l("90th percentile"))


def handling_times(filters: Filters) -> Result:
    """Hours from intake (Ticket.created_at) to the first response (the first apology or staff
    message), to the first apology (ApologyRecord), and to the latest resolution carried out
    (Resolution.carried_out_at): median and 90th percentile over the cases that got there."""
    times = cases(
        filters,
        response=CaseFacts.response_s,
        apology=CaseFacts.apology_s,
        resolution=CaseFacts.resolution_s,
    )
    found = spreads({key: times.c[key] for key in MEASURES}, times)
    columns = [
        Column(_l("From intake to"), TEXT),
        Column(_l("Cases measured"), COUNT),
        Column(_l("Median"), HOURS),
        Column(_l("90th percentile"), HOURS),
    ]
    rows = [[MEASURES[key], spread.count, spread.median, spread.p90] for key, spread in found.items()]
    if not any(spread.count for spread in found.values()):
        return Result(columns, [])
    chart = Chart(
        BARS,
        [
            Bar(str(label), (median, p90), (display(median, HOURS), display(p90, HOURS)))
            for label, count, median, p90 in rows
            if count
        ],
        series=tuple(str(s) for s in SERIES),
    )
    return Result(
        columns,
        rows,
        chart,
        headline={"response_median": Stat(_l("Median time to first response"), found["response"].median, HOURS)},
    )


def deadlines(filters: Filters) -> Result:
    """Deadlines kept, of the cases not cancelled. First response: on time when the case's response
    (Ticket.responded_at) came by its response deadline (Ticket.response_due_at, restarted when
    the customer writes again); late when it came later or has not come and the deadline passed.
    Resolution: on time when the first proposal (not refused by a supervisor) was made by the
    resolution deadline (Ticket.resolution_due_at, which stands still while the customer
    considers a proposal); late when it came later, or when an open case has none and the
    deadline passed. Cases whose deadline is still running count in neither."""
    now = literal(filters.now, UTCDateTime())
    handled = cases(
        filters,
        CaseFacts.status != Status.CANCELLED,
        responded=CaseFacts.responded_at,
        response_due=CaseFacts.response_due_at,
        resolution_due=CaseFacts.resolution_due_at,
        status=CaseFacts.status,
        proposed=CaseFacts.proposed_at,
    )
    due = handled.c
    on_time = {
        "response": (
            due.responded <= due.response_due,
            or_(due.responded > due.response_due, and_(due.responded.is_(None), due.response_due < now)),
        ),
        "resolution": (
            due.proposed <= due.resolution_due,
            or_(
                due.proposed > due.resolution_due,
                and_(due.proposed.is_(None), due.status == Status.OPEN, due.resolution_due < now),
            ),
        ),
    }
    sums = [func.sum(case((condition, 1), else_=0)) for pair in on_time.values() for condition in pair]
    counts = db.session.execute(select(func.count(), *sums).select_from(handled)).one()
    columns = [
        Column(_l("Deadline"), TEXT),
        Column(_l("On time"), COUNT),
        Column(_l("Late"), COUNT),
        Column(_l("Still running"), COUNT),
        Column(_l("On time (share of decided)"), PERCENT),
    ]
    total = counts[0] or 0
    if not total:
        return Result(columns, [])
    labels = {"response": _l("First response"), "resolution": _l("Proposed resolution")}
    rows = []
    for index, key in enumerate(on_time):
        met, late = counts[1 + 2 * index] or 0, counts[2 + 2 * index] or 0
        rows.append([labels[key], met, late, total - met - late, ratio(met, met + late)])
    chart = Chart(
        BARS,
        [
            Bar(
                str(label),
                (share,),
                (display(share, PERCENT),),
                _("%(met)s on time, %(late)s late", met=met, late=late),
            )
            for label, met, late, _running, share in rows
        ],
        axis_max=100,
        axis_kind=PERCENT,
    )
    return Result(
        columns,
        rows,
        chart,
        headline={
            "response_on_time": Stat(_l("First responses on time"), rows[0][4], PERCENT),
            "resolution_on_time": Stat(_l("Resolutions proposed on time"), rows[1][4], PERCENT),
        },
    )


def stalls(filters: Filters) -> Result:
    """Where cases stall. Per step: the open cases at that step now (Ticket.step) and how long
    they have waited since anything last happened to them (now minus Ticket.updated_at); and how
    long the step took for the cases that completed it (see facts.STEP_SPANS). Medians, in hours."""
    now = literal(seconds(filters.now), Float())
    times = cases(
        filters,
        status=CaseFacts.status,
        step=CaseFacts.step,
        updated=CaseFacts.updated_s,
        **{name: CaseFacts.__table__.c[name] for name in TOOK.values()},
    )
    waiting = {
        f"wait-{step}": case((and_(times.c.status == Status.OPEN, times.c.step == step), now - times.c.updated))
        for step in STEP_ORDER
    }
    took = {f"took-{step}": times.c[TOOK[step]] for step in STEP_SPANS}
    found = spreads(waiting | took, times)
    columns = [
        Column(_l("Step"), TEXT),
        Column(_l("Open cases now"), COUNT),
        Column(_l("Median wait so far"), HOURS),
        Column(_l("Cases that completed it"), COUNT),
        Column(_l("Median time the step took"), HOURS),
    ]
    rows = [
        [
            step.label,
            found[f"wait-{step}"].count,
            found[f"wait-{step}"].median,
            found[f"took-{step}"].count,
            found[f"took-{step}"].median,
        ]
        for step in STEP_ORDER
    ]
    if not any(row[1] or row[3] for row in rows):
        return Result(columns, [])
    series = (_("Median time the step took"), _("Median wait of the open cases"))
    chart = Chart(
        BARS,
        [
            Bar(
                _("%(step)s (%(count)s open)", step=label, count=display(open_now, COUNT)),
                (took_median, wait_median),
                (display(took_median, HOURS), display(wait_median, HOURS)),
            )
            for label, open_now, wait_median, _done, took_median in rows
        ],
        series=series,
    )
    return Result(columns, rows, chart, headline={"open": Stat(_l("Open cases"), sum(row[1] for row in rows), COUNT)})


def first_contact(filters: Filters) -> Result:
    """First-contact resolution: of the cases followed up (at least one FollowUpRecord), those put
    right at the first attempt: exactly one proposal reached the customer (Resolution rows not
    refused by a supervisor) and no follow-up found the customer still unsatisfied."""
    total, resolved = db.session.execute(
        select(func.count(), func.sum(case((CaseFacts.first_time, 1), else_=0))).where(
            *cohort(filters), CaseFacts.followed
        )
    ).one()
    columns = [
        Column(_l("Followed-up cases"), TEXT),
        Column(_l("Number of cases"), COUNT),
        Column(_l("Share"), PERCENT),
    ]
    if not total:
        return Result(columns, [])
    resolved = resolved or 0
    rows = [
        [_l("Put right at the first attempt"), resolved, ratio(resolved, total)],
        [_l("Needed another round"), total - resolved, ratio(total - resolved, total)],
    ]
    chart = Chart(
        BARS,
        [
            Bar(str(label), (share,), (f"{display(share, PERCENT)} ({display(count, COUNT)})",))
            for label, count, share in rows
        ],
        axis_max=100,
        axis_kind=PERCENT,
    )
    return Result(columns, rows, chart, headline={"rate": Stat(_l("First-contact resolution"), rows[0][2], PERCENT)})
