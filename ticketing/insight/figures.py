"""Every figure of the dashboard in one table: its key (URL and CSV name), section, title, the
definition shown beside it, and the function that computes it (whose docstring says exactly
what counts, which timestamp and which denominator). All figures are about the cases opened in
the chosen period that match the filters (see queries.cohort)."""

from collections.abc import Callable
from dataclasses import dataclass

from ticketing.i18n import lazy_gettext as _l
from ticketing.insight import causes, handling, queries, recovery, voice, volume
from ticketing.insight.filters import Filters
from ticketing.insight.queries import cohort_size
from ticketing.insight.results import Result


@dataclass(frozen=True)
class Figure:
    key: str
    section: str
    title: object
    definition: object
    compute: Callable[[Filters], Result]


SECTIONS = {
    "volume": _l("Where complaints come from"),
    "speed": _l("How fast we handle them"),
    "recovery": _l("Whether recovery works"),
    "voice": _l("What customers say afterwards"),
    "causes": _l("What to fix first"),
}

FIGURES = {
    figure.key: figure
    for figure in [
        Figure(
            "volume",
            "volume",
            _l("Cases opened over time"),
            _l("Cases opened in each part of the period, by the time they were opened."),
            volume.volume,
        ),
        Figure(
            "categories",
            "volume",
            _l("Cases by category"),
            _l("Cases opened in the period per category recorded at intake."),
            volume.categories,
        ),
        Figure(
            "channels",
            "volume",
            _l("Cases by channel"),
            _l("Cases opened in the period per channel the complaint came in by."),
            volume.channels,
        ),
        Figure(
            "handling_times",
            "speed",
            _l("Time to respond, apologise and resolve"),
            _l(
                "Hours from intake to the first response (apology or message to the customer), to the apology, and "
                "to the latest resolution carried out. Median and 90th percentile of the cases that got there."
            ),
            handling.handling_times,
        ),
        Figure(
            "deadlines",
            "speed",
            _l("Deadline compliance"),
            _l(
                "Share of decided deadlines that were kept: the first response by the response deadline, the first "
                "proposal by the resolution deadline (which stands still while the customer considers a proposal). "
                "Cancelled cases and deadlines still running are left out."
            ),
            handling.deadlines,
        ),
        Figure(
            "stalls",
            "speed",
            _l("Where cases stall"),
            _l(
                "Per step: the open cases at it now and how long they have waited since anything last happened "
                "to them, and how long the step took for the cases that completed it (medians, in hours)."
            ),
            handling.stalls,
        ),
        Figure(
            "first_contact",
            "recovery",
            _l("First-contact resolution"),
            _l(
                "Of the cases followed up: those where the first proposal the customer saw was accepted and carried "
                "out and no follow-up found them still unsatisfied."
            ),
            handling.first_contact,
        ),
        Figure(
            "retention",
            "recovery",
            _l("Recovery rate: customers retained"),
            _l(
                "Customers followed up, each counted once by their latest follow-up. Retention rate = retained / "
                "all followed up; churn rate = lost / all followed up; the rest are still at risk."
            ),
            recovery.retention,
        ),
        Figure(
            "churn_types",
            "recovery",
            _l("Lost customers by churn type"),
            _l("Customers whose latest follow-up judged them lost, by the type of churn recorded."),
            recovery.churn_types,
        ),
        Figure(
            "churn_causes",
            "recovery",
            _l("Why customers leave: causes of churn"),
            _l(
                "Customers whose latest follow-up judged them lost or at risk, by the cause recorded (management, "
                "product, price, unkept promises …); each share is of all those customers."
            ),
            recovery.churn_causes,
        ),
        Figure(
            "recovery_paradox",
            "recovery",
            _l("Satisfaction after recovery against earlier ratings"),
            _l(
                "For customers who had rated us before the case opened: their rating after this case (1-5) "
                "against their latest earlier rating. Higher after recovery is the recovery paradox."
            ),
            recovery.recovery_paradox,
        ),
        Figure(
            "compensation",
            "recovery",
            _l("Compensation granted by type"),
            _l("Compensation lines of the resolutions carried out, counted per type, with their amounts."),
            recovery.compensation,
        ),
        Figure(
            "compensation_loss",
            "recovery",
            _l("Compensation against the estimated loss"),
            _l(
                "Economic and emotional compensation of the resolutions carried out against the loss estimated on "
                "the proposal; the share counts only resolutions with an estimated loss."
            ),
            recovery.compensation_against_loss,
        ),
        Figure(
            "satisfaction",
            "voice",
            _l("Satisfaction (CSAT)"),
            _l("The customers' own 1-5 satisfaction score in the survey after the follow-up; every answer counts."),
            voice.satisfaction,
        ),
        Figure(
            "nps",
            "voice",
            _l("Net Promoter Score"),
            _l(
                "0-10 likelihood to recommend us: promoters 9-10, passives 7-8, detractors 0-6. "
                "NPS = the share of promoters minus the share of detractors, in points."
            ),
            voice.nps,
        ),
        Figure(
            "buy_again",
            "voice",
            _l("Would buy again"),
            _l("The survey's answer to whether the customer would buy from us again."),
            voice.buy_again,
        ),
        Figure(
            "fairness",
            "voice",
            _l("Perceived fairness"),
            _l(
                "Average 1-5 answers to the survey's three fairness questions: the outcome (what we gave), the "
                "process (how quickly and openly) and the treatment (how we treated the customer)."
            ),
            voice.fairness,
        ),
        Figure(
            "root_causes",
            "causes",
            _l("Root causes (Pareto)"),
            _l(
                "Analysed cases by root cause (latest analysis), largest first; the line is the cumulative share. "
                "The causes before the line reaches four in five are the vital few."
            ),
            causes.root_causes,
        ),
        Figure(
            "products",
            "causes",
            _l("Products (Pareto)"),
            _l(
                "Cases per product named on the case, largest first, with the cumulative share; cases without a "
                "product are not counted."
            ),
            causes.products,
        ),
        Figure(
            "repeat_complainants",
            "causes",
            _l("Repeat complainants"),
            _l(
                "Customers with two or more cases opened in the period, against everyone who complained in it; "
                "the ten with the most cases."
            ),
            recovery.repeat_complainants,
        ),
    ]
}

# The key numbers at the top of the page: (figure key, headline key).
TILES = [
    ("volume", "total"),
    ("handling_times", "response_median"),
    ("deadlines", "response_on_time"),
    ("first_contact", "rate"),
    ("retention", "retention_rate"),
    ("retention", "churn_rate"),
    ("satisfaction", "average"),
    ("nps", "nps"),
]


def compute(key: str, filters: Filters) -> Result:
    return FIGURES[key].compute(filters)


def dashboard(filters: Filters) -> tuple[int, dict[str, Result]]:
    """The number of cases in view and every figure's result (none when there are no cases)."""
    size = cohort_size(filters)
    if not size:
        return 0, {}
    return size, {key: figure.compute(filters) for key, figure in FIGURES.items()}


def as_of():
    """When the oldest change not yet in the figures was made (None: every change is in them)."""
    return queries.as_of()
