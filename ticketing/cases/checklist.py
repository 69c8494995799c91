"""The audit checklist a supervisor applies to a case (DOMAIN: "all handling must be recorded …").

Used when reviewing a case before it closes and when scoring sampled closed cases.
"""

from sqlalchemy import func, select

from ticketing.cases import fair_offers
from ticketing.cases.on_file import latest
from ticketing.cases.records import (
    AnalysisRecord,
    ApologyRecord,
    FollowUpRecord,
    ListenRecord,
    Resolution,
    ReviewRecord,
)
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import Retention
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l

ITEMS = [
    ("recorded", _l("Time, place, situation, handling and result are recorded")),
    ("apology", _l("An apology was made")),
    ("cause", _l("The cause was analysed and judged fairly")),
    ("compensation", _l("Compensation is proportionate to the loss")),
    ("follow_up", _l("The customer was followed up")),
    ("retention", _l("Retained or lost is recorded (and, if lost, the kind of loss)")),
]
KEYS = [key for key, _ in ITEMS]


def suggest(ticket) -> dict[str, bool]:
    """What the records show, as a starting point: the supervisor confirms or corrects each item."""
    listen, review = latest(ListenRecord, ticket), latest(ReviewRecord, ticket)
    resolution, follow_up = latest(Resolution, ticket), latest(FollowUpRecord, ticket)

    def has(model) -> bool:
        return db.session.scalar(select(func.count(model.id)).where(model.ticket_id == ticket.id)) > 0

    # The proposal's own rule (cases/fair_offers.py); never suggested without a loss to weigh it against.
    proportionate = (
        resolution is not None
        and resolution.estimated_loss is not None
        and fair_offers.in_proportion(
            resolution.total, resolution.estimated_loss, fair_offers.responsibility_found(ticket), desk()
        )
    )
    return {
        "recorded": bool(listen and review and (listen.occurred_at or listen.place) and review.summary),
        "apology": has(ApologyRecord),
        "cause": has(AnalysisRecord),
        "compensation": proportionate,
        "follow_up": follow_up is not None,
        "retention": follow_up is not None and (follow_up.retention != Retention.LOST or bool(follow_up.churn_type)),
    }


def score(checklist: dict) -> int:
    """Share of items met, in percent."""
    return round(100 * sum(bool(checklist.get(key)) for key in KEYS) / len(KEYS))
