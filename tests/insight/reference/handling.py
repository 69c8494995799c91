"""How fast complaints are handled: time to response, apology and resolution, deadlines kept,
where open cases stall, and how many are resolved at the first attempt."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Float, and_, case, exists, func, literal, or_, select

from tests.insight.reference.queries import (
    cases,
    cohort,
    earliest,
    epoch,
    first_apology_at,
    first_proposal_at,
    first_staff_message_at,
    last_carried_out_at,
    latest,
    ratio,
    seconds,
    sooner,
    spreads,
)
from ticketing.cases.models import Ticket
from ticketing.cases.records import (
    AnalysisRecord,
    ApologyRecord,
    FollowUpRecord,
    ListenRecord,
    Resolution,
)
from ticketing.cases.vocabulary import STEP_ORDER, Outcome, ResolutionState, Status, Step
from ticketing.extensions import db
from ticketing.insight.charts import BARS, Bar, Chart
from ticketing.insight.filters import Filters
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
        opened=epoch(Ticket.created_at),
        apology=epoch(first_apology_at()),
        message=epoch(first_staff_message_at()),
        resolved=epoch(last_carried_out_at()),
    )
    found = spreads(
        {
            "response": sooner(times.c.apology, times.c.message) - times.c.opened,
            "apology": times.c.apology - times.c.opened,
            "resolution": times.c.resolved - times.c.opened,
        },
        times,
    )
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
        Ticket.status != Status.CANCELLED,
        responded=Ticket.responded_at,
        response_due=Ticket.response_due_at,
        resolution_due=Ticket.resolution_due_at,
        status=Ticket.status,
        proposed=first_proposal_at(),
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


# How long a case spent in each step: from the first record of the step before to the first of this
# one (the review step: from the latest follow-up to closing). Pairs of `_milestones` columns.
STEP_SPANS = {
    Step.LISTEN: ("listened", "opened"),
    Step.APOLOGISE: ("apologised", "listened"),
    Step.ANALYSE: ("analysed", "apologised"),
    Step.RESOLVE: ("carried_out", "analysed"),
    Step.FOLLOW_UP: ("followed_up", "carried_out"),
    Step.REVIEW: ("closed", "last_follow_up"),
}


def _milestones(filters: Filters):
    """Per case of the cohort: its state, and when each milestone happened (seconds, see queries.epoch)."""
    times = dict(
        updated=Ticket.updated_at,
        opened=Ticket.created_at,
        closed=case((Ticket.status == Status.CLOSED, Ticket.closed_at)),
        listened=earliest(ListenRecord.created_at),
        apologised=earliest(ApologyRecord.created_at),
        analysed=earliest(AnalysisRecord.created_at),
        carried_out=earliest(Resolution.carried_out_at),
        followed_up=earliest(FollowUpRecord.created_at),
        last_follow_up=latest(FollowUpRecord.created_at),
    )
    return cases(
        filters, status=Ticket.status, step=Ticket.step, **{name: epoch(moment) for name, moment in times.items()}
    )


def stalls(filters: Filters) -> Result:
    """Where cases stall. Per step: the open cases at that step now (Ticket.step) and how long
    they have waited since anything last happened to them (now minus Ticket.updated_at); and how
    long the step took for the cases that completed it (see STEP_SPANS). Medians, in hours."""
    now = literal(seconds(filters.now), Float())
    times = _milestones(filters)
    waiting = {
        f"wait-{step}": case((and_(times.c.status == Status.OPEN, times.c.step == step), now - times.c.updated))
        for step in STEP_ORDER
    }
    took = {f"took-{step}": times.c[end] - times.c[start] for step, (end, start) in STEP_SPANS.items()}
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
    followed = exists().where(FollowUpRecord.ticket_id == Ticket.id)
    unsatisfied = exists().where(FollowUpRecord.ticket_id == Ticket.id, FollowUpRecord.outcome == Outcome.UNSATISFIED)
    proposals = (
        select(func.count(Resolution.id))
        .where(Resolution.ticket_id == Ticket.id, Resolution.state != ResolutionState.REFUSED)
        .scalar_subquery()
    )
    first_time = and_(~unsatisfied, proposals == 1)
    total, resolved = db.session.execute(
        select(func.count(), func.sum(case((first_time, 1), else_=0))).where(*cohort(filters), followed)
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
