"""How fast complaints are handled: time to response, apology and resolution, deadlines kept,
where open cases stall, and how many are resolved at the first attempt."""
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, literal, or_, select

from ticketing.cases.models import Ticket
from ticketing.cases.records import (
    AnalysisRecord, ApologyRecord, FollowUpRecord, ListenRecord, Resolution,
)
from ticketing.cases.vocabulary import STEP_ORDER, Outcome, ResolutionState, Status, Step
from ticketing.extensions import db
from ticketing.insight.charts import BARS, Bar, Chart
from ticketing.insight.filters import Filters
from ticketing.insight.queries import (
    cohort, earliest, first_proposal_at, first_response_at, last_carried_out_at, latest, ratio, seconds_between,
    spreads,
)
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
    found = spreads({
        "response": seconds_between(first_response_at(), Ticket.created_at),
        "apology": seconds_between(earliest(ApologyRecord.created_at), Ticket.created_at),
        "resolution": seconds_between(last_carried_out_at(), Ticket.created_at),
    }, filters)
    columns = [Column(_l("From intake to"), TEXT), Column(_l("Cases measured"), COUNT),
               Column(_l("Median"), HOURS), Column(_l("90th percentile"), HOURS)]
    rows = [[MEASURES[key], spread.count, spread.median, spread.p90] for key, spread in found.items()]
    if not any(spread.count for spread in found.values()):
        return Result(columns, [])
    chart = Chart(BARS, [Bar(str(label), (median, p90), (display(median, HOURS), display(p90, HOURS)))
                         for label, count, median, p90 in rows if count], series=tuple(str(s) for s in SERIES))
    return Result(columns, rows, chart, headline={
        "response_median": Stat(_l("Median time to first response"), found["response"].median, HOURS)})


def deadlines(filters: Filters) -> Result:
    """Deadlines kept, of the cases not cancelled. First response: on time when the case's response
    (Ticket.responded_at) came by its response deadline (Ticket.response_due_at, restarted when
    the customer writes again); late when it came later or has not come and the deadline passed.
    Resolution: on time when the first proposal (not refused by a supervisor) was made by the
    resolution deadline (Ticket.resolution_due_at, which stands still while the customer
    considers a proposal); late when it came later, or when an open case has none and the
    deadline passed. Cases whose deadline is still running count in neither."""
    now = literal(filters.now, UTCDateTime())
    cases = select(Ticket.responded_at, Ticket.response_due_at, Ticket.resolution_due_at, Ticket.status,
                   first_proposal_at().label("proposed_at")).where(*cohort(filters),
                                                                   Ticket.status != Status.CANCELLED).subquery()
    responded, proposed = cases.c.responded_at, cases.c.proposed_at
    on_time = {
        "response": (responded <= cases.c.response_due_at,
                     or_(responded > cases.c.response_due_at,
                         and_(responded.is_(None), cases.c.response_due_at < now))),
        "resolution": (proposed <= cases.c.resolution_due_at,
                       or_(proposed > cases.c.resolution_due_at,
                           and_(proposed.is_(None), cases.c.status == Status.OPEN,
                                cases.c.resolution_due_at < now))),
    }
    sums = [func.sum(case((condition, 1), else_=0)) for pair in on_time.values() for condition in pair]
    counts = db.session.execute(select(func.count(), *sums)).one()
    columns = [Column(_l("Deadline"), TEXT), Column(_l("On time"), COUNT), Column(_l("Late"), COUNT),
               Column(_l("Still running"), COUNT), Column(_l("On time (share of decided)"), PERCENT)]
    total = counts[0] or 0
    if not total:
        return Result(columns, [])
    labels = {"response": _l("First response"), "resolution": _l("Proposed resolution")}
    rows = []
    for index, key in enumerate(on_time):
        met, late = counts[1 + 2 * index] or 0, counts[2 + 2 * index] or 0
        rows.append([labels[key], met, late, total - met - late, ratio(met, met + late)])
    chart = Chart(BARS, [Bar(str(label), (share,), (display(share, PERCENT),),
                             _("%(met)s on time, %(late)s late", met=met, late=late))
                         for label, met, late, _running, share in rows], axis_max=100, axis_kind=PERCENT)
    return Result(columns, rows, chart, headline={
        "response_on_time": Stat(_l("First responses on time"), rows[0][4], PERCENT),
        "resolution_on_time": Stat(_l("Resolutions proposed on time"), rows[1][4], PERCENT)})


def _step_took(step: Step):
    """Seconds a case spent in `step`, from the first record of the step before to the first of this one
    (the review step: from the latest follow-up to closing)."""
    listened, apologised = earliest(ListenRecord.created_at), earliest(ApologyRecord.created_at)
    analysed, carried_out = earliest(AnalysisRecord.created_at), earliest(Resolution.carried_out_at)
    followed_up = earliest(FollowUpRecord.created_at)
    spans = {
        Step.LISTEN: (listened, Ticket.created_at),
        Step.APOLOGISE: (apologised, listened),
        Step.ANALYSE: (analysed, apologised),
        Step.RESOLVE: (carried_out, analysed),
        Step.FOLLOW_UP: (followed_up, carried_out),
        Step.REVIEW: (case((Ticket.status == Status.CLOSED, Ticket.closed_at)), latest(FollowUpRecord.created_at)),
    }
    return seconds_between(*spans[step])


def stalls(filters: Filters) -> Result:
    """Where cases stall. Per step: the open cases at that step now (Ticket.step) and how long
    they have waited since anything last happened to them (now minus Ticket.updated_at); and how
    long the step took for the cases that completed it (see _step_took). Medians, in hours."""
    now = literal(filters.now, UTCDateTime())
    waiting = {f"wait-{step}": case((and_(Ticket.status == Status.OPEN, Ticket.step == step),
                                     seconds_between(now, Ticket.updated_at))) for step in STEP_ORDER}
    took = {f"took-{step}": _step_took(step) for step in STEP_ORDER}
    found = spreads(waiting | took, filters)
    columns = [Column(_l("Step"), TEXT), Column(_l("Open cases now"), COUNT), Column(_l("Median wait so far"), HOURS),
               Column(_l("Cases that completed it"), COUNT), Column(_l("Median time the step took"), HOURS)]
    rows = [[step.label, found[f"wait-{step}"].count, found[f"wait-{step}"].median,
             found[f"took-{step}"].count, found[f"took-{step}"].median] for step in STEP_ORDER]
    if not any(row[1] or row[3] for row in rows):
        return Result(columns, [])
    series = (_("Median time the step took"), _("Median wait of the open cases"))
    chart = Chart(BARS, [Bar(_("%(step)s (%(count)s open)", step=label, count=display(open_now, COUNT)),
                             (took_median, wait_median), (display(took_median, HOURS), display(wait_median, HOURS)))
                         for label, open_now, wait_median, _done, took_median in rows], series=series)
    return Result(columns, rows, chart, headline={"open": Stat(_l("Open cases"), sum(row[1] for row in rows), COUNT)})


def first_contact(filters: Filters) -> Result:
    """First-contact resolution: of the cases followed up (at least one FollowUpRecord), those put
    right at the first attempt: exactly one proposal reached the customer (Resolution rows not
    refused by a supervisor) and no follow-up found the customer still unsatisfied."""
    followed = exists().where(FollowUpRecord.ticket_id == Ticket.id)
    unsatisfied = exists().where(FollowUpRecord.ticket_id == Ticket.id, FollowUpRecord.outcome == Outcome.UNSATISFIED)
    proposals = (select(func.count(Resolution.id))
                 .where(Resolution.ticket_id == Ticket.id, Resolution.state != ResolutionState.REFUSED)
                 .scalar_subquery())
    first_time = and_(~unsatisfied, proposals == 1)
    total, resolved = db.session.execute(select(func.count(), func.sum(case((first_time, 1), else_=0)))
                                         .where(*cohort(filters), followed)).one()
    columns = [Column(_l("Followed-up cases"), TEXT), Column(_l("Number of cases"), COUNT), Column(_l("Share"), PERCENT)]
    if not total:
        return Result(columns, [])
    resolved = resolved or 0
    rows = [[_l("Put right at the first attempt"), resolved, ratio(resolved, total)],
            [_l("Needed another round"), total - resolved, ratio(total - resolved, total)]]
    chart = Chart(BARS, [Bar(str(label), (share,), (f"{display(share, PERCENT)} ({display(count, COUNT)})",))
                         for label, count, share in rows], axis_max=100, axis_kind=PERCENT)
    return Result(columns, rows, chart, headline={"rate": Stat(_l("First-contact resolution"), rows[0][2], PERCENT)})
