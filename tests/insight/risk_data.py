"""Hand-built rows for the early-warning, risk, win-back and team tests: tickets and step records
inserted directly with chosen times, so every expected figure can be worked out by hand."""

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest

from ticketing.cases import catalogue
from ticketing.cases.models import Customer, Ticket
from ticketing.cases.records import FollowUpRecord, ListenRecord, Resolution
from ticketing.cases.survey import SurveyResponse
from ticketing.extensions import db

# Tuesday 24 November 2026, 09:00 UTC = 17:00 in Shanghai; the week began Monday 23 November
# 00:00 Shanghai = Sunday 22 November 16:00 UTC.
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
WEEK_START = datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)
# The digest hour is T0's hour in Shanghai, so the early-warning job acts when a test runs it at T0.
PINNED = dict(BABEL_DEFAULT_TIMEZONE="Asia/Shanghai", SMTP_HOST=None, DIGEST_HOUR=17)
_numbers = itertools.count(1)


def _linked(product: str | None) -> int | None:
    """The catalogue's product the text names, added as staff would add it."""
    found = catalogue.product_for(product, create=True)
    return found.id if found is not None else None


@pytest.fixture
def app(app):
    """The app with the service timezone pinned (weeks and due dates depend on it) and no SMTP;
    import it into a test module to use it there."""
    app.config.update(PINNED)
    return app


def customer(name="Li Lei", tier="standard", email=None) -> Customer:
    row = Customer(name=name, email=email or f"{name.lower().replace(' ', '.')}@example.com", value_tier=tier)
    db.session.add(row)
    db.session.flush()
    return row


def ticket(
    owner: Customer,
    *,
    created_at: datetime = T0 - timedelta(days=1),
    category=None,
    product=None,
    status="open",
    closed_at=None,
    assignee=None,
    responded_at=None,
    response_due_at=None,
    merged_into=None,
) -> Ticket:
    """A case with its deadlines comfortably in the future of T0 unless given."""
    row = Ticket(
        reference=f"T-{next(_numbers):06d}",
        customer_id=owner.id,
        subject="Subject",
        description="Text",
        channel="phone",
        category=category,
        product=product,
        product_id=_linked(product),
        status=status,
        created_at=created_at,
        updated_at=created_at,
        closed_at=closed_at,
        assignee_id=assignee.id if assignee else None,
        responded_at=responded_at,
        response_due_at=response_due_at or T0 + timedelta(days=30),
        resolution_due_at=T0 + timedelta(days=30),
        merged_into_id=merged_into.id if merged_into else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def listened(case: Ticket, emotion: str) -> ListenRecord:
    row = ListenRecord(
        ticket_id=case.id,
        customer_words="words",
        restatement="restated",
        expectation="a fix",
        emotion=emotion,
        dissatisfaction="explicit",
        created_at=case.created_at,
    )
    db.session.add(row)
    return row


def proposal(case: Ticket, by, state: str) -> Resolution:
    row = Resolution(
        ticket_id=case.id,
        method="Replace it",
        promised_date=date(2026, 12, 1),
        currency="CNY",
        state=state,
        proposed_by_id=by.id,
    )
    db.session.add(row)
    return row


def followed_up(case: Ticket, by, *, outcome="satisfied", satisfaction=4) -> FollowUpRecord:
    row = FollowUpRecord(
        ticket_id=case.id,
        method="phone",
        outcome=outcome,
        satisfaction=satisfaction,
        retention="retained",
        recorded_by_id=by.id,
    )
    db.session.add(row)
    db.session.flush()
    return row


def rated(case: Ticket, by, satisfaction: int, at: datetime = T0 - timedelta(days=1)) -> SurveyResponse:
    follow_up = followed_up(case, by)
    row = SurveyResponse(
        ticket_id=case.id,
        follow_up_id=follow_up.id,
        satisfaction=satisfaction,
        recommend=5,
        buy_again="maybe",
        fair_outcome=3,
        fair_process=3,
        fair_treatment=3,
        created_at=at,
    )
    db.session.add(row)
    return row
