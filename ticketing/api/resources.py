"""What the API answers: response models, built from the database rows.

Every response goes through one of these models, so what is sent always matches the
OpenAPI document generated from them.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from ticketing.cases import catalogue, workflow
from ticketing.cases.audit import Event
from ticketing.cases.models import Message, Note, Ticket
from ticketing.cases.records import (
    AnalysisRecord,
    ApologyRecord,
    FollowUpRecord,
    ListenRecord,
    Resolution,
    ReviewRecord,
)
from ticketing.cases.vocabulary import (
    Channel,
    ChurnCause,
    ChurnType,
    CompensationKind,
    CompensationType,
    ContactMethod,
    Dissatisfaction,
    Emotion,
    Legitimacy,
    Motive,
    Outcome,
    Priority,
    ResolutionState,
    Responsibility,
    Retention,
    RootCause,
    Status,
    Step,
)
from ticketing.extensions import db


class Out(BaseModel):
    pass


class UserRef(Out):
    id: int
    name: str


class CustomerRef(Out):
    id: int
    name: str
    email: str | None
    phone: str | None


class TicketSummary(Out):
    reference: str
    subject: str
    channel: Channel
    category: str | None = Field(description="The category's code (the catalogues: GET /api/v1/catalogues).")
    product: str | None = Field(description="The product or service as typed.")
    product_code: str | None = Field(description="The catalogue's product it names; null when none yet.")
    priority: Priority
    step: Step
    status: Status
    resolution_state: ResolutionState
    customer: CustomerRef
    assignee: UserRef | None
    created_at: datetime
    updated_at: datetime
    response_due_at: datetime
    resolution_due_at: datetime
    promised_date: date | None
    closed_at: datetime | None
    version: int


class TicketCreated(TicketSummary):
    tracking_url: str = Field(description="The customer's private link to follow the case; pass it on.")


class ListenOut(Out):
    customer_words: str
    restatement: str
    restatement_confirmed: bool
    expectation: str
    emotion: Emotion
    dissatisfaction: Dissatisfaction
    occurred_at: datetime | None
    place: str | None
    created_at: datetime


class ApologyOut(Out):
    method: ContactMethod
    wording: str
    created_at: datetime


class AnalysisOut(Out):
    root_cause: RootCause
    detail: str
    product: str | None
    legitimacy: Legitimacy
    responsibility: Responsibility
    motive: Motive
    created_at: datetime


class CompensationOut(Out):
    kind: CompensationKind
    type: CompensationType
    description: str | None
    amount: Decimal | None
    currency: str
    approved_at: datetime | None


class ResolutionOut(Out):
    method: str
    promised_date: date
    estimated_loss: Decimal | None
    currency: str
    state: ResolutionState
    customer_reason: str | None
    decision_reason: str | None
    carried_out_at: datetime | None
    carried_out_note: str | None
    compensation: list[CompensationOut]
    created_at: datetime


class FollowUpOut(Out):
    method: ContactMethod
    outcome: Outcome
    satisfaction: int
    retention: Retention
    churn_type: ChurnType | None
    churn_cause: ChurnCause | None
    notes: str
    return_to: Step | None
    created_at: datetime


class ReviewOut(Out):
    summary: str
    lesson: str
    preventive_action: str
    decision: Literal["approved", "returned"] | None
    decided_at: datetime | None
    comments: str | None
    return_to: Step | None
    created_at: datetime


class Records(Out):
    listen: list[ListenOut]
    apologise: list[ApologyOut]
    analyse: list[AnalysisOut]
    resolve: list[ResolutionOut]
    follow_up: list[FollowUpOut]
    review: list[ReviewOut]


class MessageOut(Out):
    id: int
    from_customer: bool
    author: UserRef | None
    body: str
    created_at: datetime


class NoteOut(Out):
    id: int
    author: UserRef
    body: str
    created_at: datetime


class TicketDetail(TicketSummary):
    description: str
    customer_expectation: str | None
    merged_into: str | None = Field(description="Reference of the case this duplicate was merged into.")
    records: Records = Field(description="Every step's records, oldest first (a step done again adds a record).")
    messages: list[MessageOut]
    notes: list[NoteOut] = Field(description="Internal notes: staff only, never shown to the customer.")
    allowed_actions: list[str] = Field(description="Actions the token's owner may take now.")


class CustomerSummary(CustomerRef):
    value_tier: str = Field(description="The value tier's code (GET /api/v1/catalogues).")


class CustomerPage(Out):
    items: list[CustomerSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class TicketPage(Out):
    items: list[TicketSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class Actor(Out):
    kind: Literal["staff", "customer", "scheduler"]
    name: str | None


class EventOut(Out):
    seq: int = Field(description="1, 2, 3 … within the case.")
    action: str
    actor: Actor
    changes: dict[str, Any] = Field(description="Field name → {before, after}.")
    created_at: datetime
    prev_hash: str | None
    hash: str = Field(description="SHA-256 chaining this event to the previous one (tamper evidence).")


class EventList(Out):
    items: list[EventOut]


class CustomerDetail(CustomerRef):
    external_id: str | None
    value_tier: str = Field(description="The value tier's code (GET /api/v1/catalogues).")
    locale: str
    created_at: datetime
    merged_into_id: int | None = Field(
        description="Set when this record was merged into another as a duplicate: that record holds the cases now."
    )
    tickets: list[TicketSummary]


class FieldError(Out):
    field: str = Field(description="Where in the body or query, dotted (customer.email).")
    message: str
    type: str


class Problem(Out):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
    current_version: int | None = Field(None, description="On 409: the case's version now.")


# --- building them from rows --------------------------------------------------


def _user(user) -> UserRef | None:
    return UserRef(id=user.id, name=user.name) if user is not None else None


def _customer(customer) -> dict:
    return {"id": customer.id, "name": customer.name, "email": customer.email, "phone": customer.phone}


def _summary_fields(ticket: Ticket) -> dict:
    names = (
        "reference",
        "subject",
        "channel",
        "category",
        "product",
        "priority",
        "step",
        "status",
        "resolution_state",
        "created_at",
        "updated_at",
        "response_due_at",
        "resolution_due_at",
        "promised_date",
        "closed_at",
        "version",
    )
    return {
        **{name: getattr(ticket, name) for name in names},
        "product_code": catalogue.product_code(ticket.product_id),
        "customer": CustomerRef(**_customer(ticket.customer)),
        "assignee": _user(ticket.assignee),
    }


def summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary(**_summary_fields(ticket))


def created(ticket: Ticket, tracking_url: str) -> TicketCreated:
    return TicketCreated(**_summary_fields(ticket), tracking_url=tracking_url)


def _rows(model, ticket):
    return db.session.scalars(select(model).where(model.ticket_id == ticket.id).order_by(model.id))


def _from(model_out, row, **extra):
    return model_out(**{name: getattr(row, name) for name in model_out.model_fields if name not in extra}, **extra)


def _resolution(row: Resolution) -> ResolutionOut:
    lines = [_from(CompensationOut, line) for line in row.lines]
    return _from(ResolutionOut, row, compensation=lines)


def detail(ticket: Ticket, actor, limits) -> TicketDetail:
    records = Records(
        listen=[_from(ListenOut, r) for r in _rows(ListenRecord, ticket)],
        apologise=[_from(ApologyOut, r) for r in _rows(ApologyRecord, ticket)],
        analyse=[_from(AnalysisOut, r) for r in _rows(AnalysisRecord, ticket)],
        resolve=[_resolution(r) for r in _rows(Resolution, ticket)],
        follow_up=[_from(FollowUpOut, r) for r in _rows(FollowUpRecord, ticket)],
        review=[_from(ReviewOut, r) for r in _rows(ReviewRecord, ticket)],
    )
    messages = [
        MessageOut(id=m.id, from_customer=m.from_customer, author=_user(m.author), body=m.body, created_at=m.created_at)
        for m in _rows(Message, ticket)
    ]
    notes = [
        NoteOut(id=n.id, author=_user(n.author), body=n.body, created_at=n.created_at) for n in _rows(Note, ticket)
    ]
    allowed = sorted(workflow.offered_actions(workflow.Context(ticket, actor, {}, limits)))
    return TicketDetail(
        **_summary_fields(ticket),
        description=ticket.description,
        customer_expectation=ticket.customer_expectation,
        merged_into=ticket.merged_into.reference if ticket.merged_into else None,
        records=records,
        messages=messages,
        notes=notes,
        allowed_actions=allowed,
    )


def event(row: Event) -> EventOut:
    if row.actor_id is not None:
        actor = Actor(kind="staff", name=row.actor_name)
    else:
        actor = Actor(kind="scheduler" if row.actor_name == "scheduler" else "customer", name=None)
    changes = {field: {"before": before, "after": after} for field, (before, after) in (row.changes or {}).items()}
    return EventOut(
        seq=row.seq,
        action=row.action,
        actor=actor,
        changes=changes,
        created_at=row.created_at,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def customer_detail(customer, tickets) -> CustomerDetail:
    return CustomerDetail(
        **_customer(customer),
        external_id=customer.external_id,
        value_tier=customer.value_tier,
        locale=customer.locale,
        created_at=customer.created_at,
        merged_into_id=customer.merged_into_id,
        tickets=[summary(t) for t in tickets],
    )


def customer_summary(customer) -> CustomerSummary:
    return CustomerSummary(**_customer(customer), value_tier=customer.value_tier)
