"""The customer's satisfaction survey after the follow-up: CSAT, NPS, loyalty, perceived fairness."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.cases.records import FollowUpRecord
from ticketing.cases.services.base import Change
from ticketing.cases.vocabulary import Outcome
from ticketing.cases.workflow import WorkflowError
from ticketing.clock import utcnow
from ticketing.extensions import db
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


ANSWERED = _l("Your answers to this survey are already saved. Thank you!")


def _rated_follow_up(ticket) -> FollowUpRecord | None:
    """The case's latest follow-up, when it ended satisfied (the one a survey asks about)."""
    follow_up = db.session.scalars(
        select(FollowUpRecord).where(FollowUpRecord.ticket_id == ticket.id).order_by(FollowUpRecord.id.desc())
    ).first()
    return follow_up if follow_up is not None and follow_up.outcome == Outcome.SATISFIED else None


def _answered(follow_up) -> bool:
    return db.session.scalar(select(SurveyResponse.id).where(SurveyResponse.follow_up_id == follow_up.id)) is not None


def survey_due(ticket) -> FollowUpRecord | None:
    """The satisfied follow-up the customer has not rated yet, if any."""
    follow_up = _rated_follow_up(ticket)
    return None if follow_up is None or _answered(follow_up) else follow_up


def answer_survey(
    ticket, *, satisfaction, recommend, buy_again, fair_outcome, fair_process, fair_treatment, comment=""
):
    """Keep the customer's rating (once per follow-up) and log it on the case.

    A second answer (a double click, a second tab) is refused with a clear reason: checked first,
    and when two arrive at the same moment the unique follow-up of the answers refuses the later.
    """
    follow_up = _rated_follow_up(ticket)
    if follow_up is None:
        raise WorkflowError(_l("There is no survey to answer for this case."))
    if _answered(follow_up):
        raise WorkflowError(ANSWERED)
    change = Change(ticket, None, "rate")
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
        created_at=now,
    )
    db.session.add(response)
    try:
        db.session.flush()  # only the answer is pending here: the queries above flushed the rest
    except IntegrityError as error:  # the same survey answered at the same moment: the other one is kept
        raise WorkflowError(ANSWERED) from error
    change.log(
        satisfaction=response.satisfaction, recommend=response.recommend, buy_again=buy_again, comment=comment or None
    )
    change.done()
    return response
