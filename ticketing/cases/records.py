"""What each of the six steps records. Rows are only ever added: the latest is current,
the earlier ones stay as history when a case goes round a step again."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ticketing.auth.models import User
from ticketing.cases import chain
from ticketing.cases.vocabulary import (
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
    ResolutionState,
    Responsibility,
    Retention,
    RootCause,
    Step,
    SuggestionState,
)
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime, enum_type


class _StepRecord:
    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ListenRecord(_StepRecord, db.Model):
    """Step 1, accept and listen (接受抱怨，耐心倾听)."""

    __tablename__ = "listen_records"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(String(200))
    customer_words: Mapped[str] = mapped_column(Text)
    restatement: Mapped[str] = mapped_column(Text)
    restatement_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    expectation: Mapped[str] = mapped_column(Text)
    emotion: Mapped[Emotion] = mapped_column(enum_type(Emotion))
    dissatisfaction: Mapped[Dissatisfaction] = mapped_column(enum_type(Dissatisfaction))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    recorded_by: Mapped[User | None] = relationship()


class ApologyRecord(_StepRecord, db.Model):
    """Step 2, empathise and apologise (表示同情、理解并真情致歉)."""

    __tablename__ = "apology_records"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    method: Mapped[ContactMethod] = mapped_column(enum_type(ContactMethod))
    wording: Mapped[str] = mapped_column(Text)
    apologised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    apologised_by: Mapped[User] = relationship()


class AnalysisRecord(_StepRecord, db.Model):
    """Step 3, analyse the cause (分析原因) and judge it fairly."""

    __tablename__ = "analysis_records"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    root_cause: Mapped[RootCause] = mapped_column(enum_type(RootCause), index=True)
    detail: Mapped[str] = mapped_column(Text)
    product: Mapped[str | None] = mapped_column(String(120))
    legitimacy: Mapped[Legitimacy] = mapped_column(enum_type(Legitimacy))
    responsibility: Mapped[Responsibility] = mapped_column(enum_type(Responsibility))
    motive: Mapped[Motive] = mapped_column(enum_type(Motive))
    analysed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    analysed_by: Mapped[User] = relationship()


class Resolution(_StepRecord, db.Model):
    """Step 4, a proposed resolution (提出公平化的解决方案): method, promised date, compensation."""

    __tablename__ = "resolutions"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    method: Mapped[str] = mapped_column(Text)
    promised_date: Mapped[date] = mapped_column(Date)
    estimated_loss: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[ResolutionState] = mapped_column(enum_type(ResolutionState))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    customer_reason: Mapped[str | None] = mapped_column(Text)
    carried_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    carried_out_note: Mapped[str | None] = mapped_column(Text)

    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    lines: Mapped[list["CompensationLine"]] = relationship(
        back_populates="resolution", order_by="CompensationLine.id", cascade="all, delete-orphan"
    )

    @property
    def total(self) -> Decimal:
        """All compensation with a money value, economic and emotional (a gift has a cost too)."""
        return sum((line.amount or Decimal(0) for line in self.lines), Decimal(0))


class CompensationLine(db.Model):
    """One element of compensation: economic (refund, voucher…) or emotional (letter, visit…)."""

    __tablename__ = "compensation_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolutions.id"), index=True)
    kind: Mapped[CompensationKind] = mapped_column(enum_type(CompensationKind))
    type: Mapped[CompensationType] = mapped_column(enum_type(CompensationType))
    description: Mapped[str | None] = mapped_column(String(200))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    resolution: Mapped[Resolution] = relationship(back_populates="lines")
    approved_by: Mapped[User | None] = relationship()


class FollowUpRecord(_StepRecord, db.Model):
    """Step 5, follow up (跟踪服务/回访): is the problem really solved, how does the customer feel."""

    __tablename__ = "follow_up_records"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    method: Mapped[ContactMethod] = mapped_column(enum_type(ContactMethod))
    outcome: Mapped[Outcome] = mapped_column(enum_type(Outcome))
    satisfaction: Mapped[int] = mapped_column(Integer)
    retention: Mapped[Retention] = mapped_column(enum_type(Retention))
    churn_type: Mapped[ChurnType | None] = mapped_column(enum_type(ChurnType))
    churn_cause: Mapped[ChurnCause | None] = mapped_column(enum_type(ChurnCause))  # lost or at risk: why
    notes: Mapped[str] = mapped_column(Text, default="")
    return_to: Mapped[Step | None] = mapped_column(enum_type(Step))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    recorded_by: Mapped[User] = relationship()


class ReviewRecord(_StepRecord, db.Model):
    """Step 6, record and review (总结评价): the summary, the lesson, and the supervisor's decision."""

    __tablename__ = "review_records"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    lesson: Mapped[str] = mapped_column(Text)
    preventive_action: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(20))  # approved | returned
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)  # the team page's period
    comments: Mapped[str | None] = mapped_column(Text)
    return_to: Mapped[Step | None] = mapped_column(enum_type(Step))
    checklist: Mapped[dict | None] = mapped_column(JSON)  # the supervisor's audit: item -> True/False

    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class GuaranteeSuggestion(db.Model):
    """Compensation the service guarantee suggests after a missed deadline, for the assignee to confirm."""

    __tablename__ = "guarantee_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    type: Mapped[CompensationType] = mapped_column(enum_type(CompensationType))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=SuggestionState.SUGGESTED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The record table of each step, in step order.
RECORDS = {
    "listen": ListenRecord,
    "apologise": ApologyRecord,
    "analyse": AnalysisRecord,
    "resolve": Resolution,
    "follow_up": FollowUpRecord,
    "review": ReviewRecord,
}

# Every record is sealed by the event that wrote it (chain.py). What a later action of the case may
# still set — a decision, the customer's answer, the remedy carried out, an approval — is sealed by
# that action's event; nothing else of a record can change, and no record can be deleted.
chain.seal_records(ListenRecord)
chain.seal_records(ApologyRecord)
chain.seal_records(AnalysisRecord)
chain.seal_records(
    Resolution,
    mutable=("state", "decided_by_id", "decision_reason", "customer_reason", "carried_out_at", "carried_out_note"),
)
chain.seal_records(CompensationLine, mutable=("approved_by_id", "approved_at"), parent=(Resolution, "resolution_id"))
chain.seal_records(FollowUpRecord)
chain.seal_records(
    ReviewRecord, mutable=("decision", "decided_by_id", "decided_at", "comments", "return_to", "checklist")
)

# What the customers-at-risk score asks of each case (risk.py), answered from the index alone.
Index("ix_listen_records_ticket_id_emotion", ListenRecord.ticket_id, ListenRecord.emotion)
Index("ix_resolutions_ticket_id_state", Resolution.ticket_id, Resolution.state)
Index(
    "ix_follow_up_records_ticket_id_outcome",
    FollowUpRecord.ticket_id,
    FollowUpRecord.outcome,
    FollowUpRecord.satisfaction,
)
