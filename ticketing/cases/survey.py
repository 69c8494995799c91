"""The customer's satisfaction survey after every follow-up: CSAT, NPS, loyalty, perceived fairness."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.cases import chain, on_file, reminders, workflow
from ticketing.cases.portal_access import PortalAccess
from ticketing.cases.records import FollowUpRecord
from ticketing.cases.services.base import Change
from ticketing.cases.vocabulary import ReminderKind
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.types import UTCDateTime


class SurveyResponse(db.Model):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    follow_up_id: Mapped[int] = mapped_column(ForeignKey("follow_up_records.id"), unique=True)
    satisfaction: Mapped[int] = mapped_column(Integer)  # CSAT 1-5
    recommend: Mapped[int] = mapped_column(Integer)  # NPS 0-10
    buy_again: Mapped[str] = mapped_column(String(10))  # yes | maybe | no
    fair_outcome: Mapped[int] = mapped_column(Integer)  # distributive justice 1-5
    fair_process: Mapped[int] = mapped_column(Integer)  # procedural justice 1-5
    fair_treatment: Mapped[int] = mapped_column(Integer)  # interactional justice 1-5
    comment: Mapped[str | None] = mapped_column(Text)
    # Staff who wrote down the answers a customer without e-mail gave on the phone (None: the customer).
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)  # the team page's period


chain.seal_records(SurveyResponse)  # the customer's answers, fairness included, sealed as given
Index("ix_survey_responses_ticket_id_satisfaction", SurveyResponse.ticket_id, SurveyResponse.satisfaction)  # risk.py


ANSWERED = _l("Your answers to this survey are already saved. Thank you!")
RECORDED = _l("The answers to this survey are already saved: a survey is answered once.")  # to staff


def _latest_follow_up(ticket) -> FollowUpRecord | None:
    """The case's latest follow-up, satisfied or not: the one a survey asks about. Asking after every
    follow-up, not only the satisfied ones, keeps the figures from hearing only the happy customers."""
    return on_file.latest(FollowUpRecord, ticket)


def _answered(follow_up) -> bool:
    return db.session.scalar(select(SurveyResponse.id).where(SurveyResponse.follow_up_id == follow_up.id)) is not None


def survey_due(ticket) -> FollowUpRecord | None:
    """The latest follow-up, when the customer has not answered its survey yet."""
    follow_up = _latest_follow_up(ticket)
    return None if follow_up is None or _answered(follow_up) else follow_up


def answer_survey(
    ticket,
    *,
    satisfaction,
    recommend,
    buy_again,
    fair_outcome,
    fair_process,
    fair_treatment,
    comment="",
    recorded_by=None,
):
    """Keep the customer's answers (once per follow-up) and log them on the case; `recorded_by` is the
    staff member who took them down on the phone (the log names them), None when the customer answered.

    A second answer (a double click, a second tab) is refused with a clear reason: checked first,
    and when two arrive at the same moment the unique follow-up of the answers refuses the later.
    The reminder to a customer who had not answered yet is called off.
    """
    follow_up = _latest_follow_up(ticket)
    if follow_up is None:
        raise WorkflowError(_l("There is no survey to answer for this case."))
    already = ANSWERED if recorded_by is None else RECORDED
    if _answered(follow_up):
        raise WorkflowError(already)
    change = Change(ticket, recorded_by, "rate" if recorded_by is None else "record_survey")
    now = change.now
    response = SurveyResponse(
        ticket_id=ticket.id,
        follow_up_id=follow_up.id,
        satisfaction=int(satisfaction),
        recommend=int(recommend),
        buy_again=buy_again,
        fair_outcome=int(fair_outcome),
        fair_process=int(fair_process),
        fair_treatment=int(fair_treatment),
        comment=comment or None,
        recorded_by_id=recorded_by.id if recorded_by is not None else None,
        created_at=now,
    )
    db.session.add(response)
    try:
        db.session.flush()  # only the answer is pending here: the queries above flushed the rest
    except IntegrityError as error:  # the same survey answered at the same moment: the other one is kept
        raise WorkflowError(already) from error
    change.log(
        satisfaction=response.satisfaction,
        recommend=response.recommend,
        buy_again=buy_again,
        fair_outcome=response.fair_outcome,
        fair_process=response.fair_process,
        fair_treatment=response.fair_treatment,
        comment=comment or None,
    )
    reminders.cancel(reminders.survey_reminder_key(follow_up))
    change.done()
    return response


def record_phone_survey(
    ticket,
    actor,
    *,
    version,
    satisfaction,
    recommend,
    buy_again,
    fair_outcome,
    fair_process,
    fair_treatment,
    comment="",
):
    """Staff who work the case take down the survey answers a customer gave on the phone (a customer
    without e-mail gets no survey e-mail). A side action: any version of the case will do."""
    return answer_survey(
        ticket,
        satisfaction=satisfaction,
        recommend=recommend,
        buy_again=buy_again,
        fair_outcome=fair_outcome,
        fair_process=fair_process,
        fair_treatment=fair_treatment,
        comment=comment,
        recorded_by=actor,
    )


def phone_survey_offered(ctx: workflow.Context) -> bool:
    """Whether the actor may take down the customer's answers now: a survey is due and they work the case."""
    return survey_due(ctx.ticket) is not None and workflow.refusal("record_survey", ctx) is None


def survey_notice_needed(reminder) -> bool:
    """Whether a survey notice to the customer is still worth sending when its moment comes (the
    dispatcher asks; any other kind of reminder: True). The reminder to answer goes only while its
    follow-up is the case's latest and unanswered; no survey notice goes once staff have revoked every
    private link of the case (the notice would mint a fresh one)."""
    if reminder.kind not in (ReminderKind.SATISFACTION_SURVEY, ReminderKind.SURVEY_REMINDER):
        return True
    ticket = reminder.ticket
    if ticket is None or _links_all_revoked(ticket):
        return False
    if reminder.kind == ReminderKind.SURVEY_REMINDER:
        due = survey_due(ticket)
        return due is not None and due.id == (reminder.details or {}).get("follow_up_id")
    return True


def _links_all_revoked(ticket) -> bool:
    revoked = db.session.execute(
        select(func.count(PortalAccess.id), func.count(PortalAccess.revoked_at)).where(
            PortalAccess.ticket_id == ticket.id
        )
    ).one()
    issued, ended = revoked
    return issued > 0 and issued == ended
