"""Recording the six handling steps (the resolution step has its own module)."""

from sqlalchemy import select

from ticketing.cases import catalogue, fair_offers
from ticketing.cases.deadlines import resolution_deadline, review_deadline
from ticketing.cases.records import (
    AnalysisRecord,
    ApologyRecord,
    FollowUpRecord,
    ListenRecord,
    ReviewRecord,
)
from ticketing.cases.reminders import notify_assignee, request_survey
from ticketing.cases.services.base import Change
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import Outcome, ResolutionState, ReviewDecision, Status, Step
from ticketing.extensions import db


def record_listening(
    ticket,
    actor,
    *,
    version,
    customer_words,
    restatement,
    expectation,
    emotion,
    dissatisfaction,
    restatement_confirmed=False,
    occurred_at=None,
    place=None,
):
    """Step 1: the complaint in the customer's words and the agent's confirmed restatement."""
    change = Change(ticket, actor, "listen", version=version)
    change.record(
        ListenRecord(
            ticket_id=ticket.id,
            occurred_at=occurred_at,
            place=place or None,
            customer_words=customer_words,
            restatement=restatement,
            restatement_confirmed=bool(restatement_confirmed),
            expectation=expectation,
            emotion=emotion,
            dissatisfaction=dissatisfaction,
            recorded_by_id=actor.id if actor else None,
            created_at=change.now,
        ),
        emotion=emotion,
        dissatisfaction=dissatisfaction,
        restatement_confirmed=bool(restatement_confirmed),
        expectation=expectation,
    )
    return change.done()


def record_apology(ticket, actor, *, version, method, wording):
    """Step 2: feelings first, facts second — the apology is made whatever the merits."""
    change = Change(ticket, actor, "apologise", version=version)
    change.record(
        ApologyRecord(
            ticket_id=ticket.id, method=method, wording=wording, apologised_by_id=actor.id, created_at=change.now
        ),
        method=method,
        wording=wording,
    )
    if ticket.responded_at is None:
        change.set(ticket, responded_at=change.now)
    return change.done()


def record_analysis(ticket, actor, *, version, root_cause, detail, legitimacy, responsibility, motive, product=None):
    """Step 3: the cause, judged fairly (a complaint is not automatically the company's fault)."""
    change = Change(ticket, actor, "analyse", version=version)
    change.record(
        AnalysisRecord(
            ticket_id=ticket.id,
            root_cause=root_cause,
            detail=detail,
            product=product or None,
            legitimacy=legitimacy,
            responsibility=responsibility,
            motive=motive,
            analysed_by_id=actor.id,
            created_at=change.now,
        ),
        root_cause=root_cause,
        legitimacy=legitimacy,
        responsibility=responsibility,
        motive=motive,
    )
    change.set(ticket, analysed_at=change.now)
    if product and not ticket.product:
        change.set(ticket, product=product)
        named = catalogue.product_for(product, create=True, actor=actor)  # the log names the text, as intake's
        ticket.product_id = named.id if named is not None else None
    return change.done()


def record_follow_up(
    ticket,
    actor,
    *,
    version,
    method,
    outcome,
    satisfaction,
    retention,
    notes="",
    churn_type=None,
    churn_cause=None,
    return_to=None,
):
    """Step 5: check the problem is really solved; an unsatisfied customer sends the case back.
    A customer judged lost or at risk gets the kind and the cause of churn (and lands on Customers at risk)."""
    return_to, churn_type, churn_cause = return_to or None, churn_type or None, churn_cause or None
    data = {
        "outcome": outcome,
        "return_to": return_to,
        "retention": retention,
        "churn_type": churn_type,
        "churn_cause": churn_cause,
    }
    change = Change(ticket, actor, "follow_up", data, version=version)
    if outcome == Outcome.SATISFIED:
        return_to = None
    follow_up = FollowUpRecord(
        ticket_id=ticket.id,
        method=method,
        outcome=outcome,
        satisfaction=int(satisfaction),
        retention=retention,
        churn_type=churn_type,
        churn_cause=churn_cause,
        notes=notes or "",
        return_to=return_to,
        recorded_by_id=actor.id,
        created_at=change.now,
    )
    churn = {"churn_type": churn_type, "churn_cause": churn_cause} if churn_type else {}
    change.record(follow_up, outcome=outcome, satisfaction=int(satisfaction), retention=retention, **churn)
    change.set(ticket, follow_up_due_at=None)
    if return_to is not None:
        _rewind(change, Step(return_to))
    event = change.done()
    # Satisfied or not, the customer is asked (one survey per follow-up, once it is saved).
    request_survey(ticket, follow_up, change.now)
    return event


def record_review(ticket, actor, *, version, summary, lesson, preventive_action=""):
    """Step 6: what happened, how it was handled, the result, and the lesson (举一反三)."""
    change = Change(ticket, actor, "record_review", version=version)
    change.record(
        ReviewRecord(
            ticket_id=ticket.id,
            summary=summary,
            lesson=lesson,
            preventive_action=preventive_action or "",
            recorded_by_id=actor.id,
            created_at=change.now,
        ),
        summary=summary,
        lesson=lesson,
        preventive_action=preventive_action,
    )
    change.set(ticket, review_recorded_at=change.now, review_due_at=review_deadline(change.now))
    return change.done()


def approve_review(ticket, actor, *, version, comments="", checklist=None):
    """A supervisor's audit passes: the case closes, the checklist kept with the review. Four eyes:
    the reviewer did not handle the case (a one-person desk allows it, recorded on the case)."""
    handlers = fair_offers.handlers(ticket)
    data = {"handlers": handlers, "one_person_desk": desk().one_person_desk}
    change = Change(ticket, actor, "approve_review", data, version=version)
    if actor.id in handlers:
        change.log(four_eyes_waived=["self_review"])
    _decide_latest_review(ticket, actor, change, ReviewDecision.APPROVED, comments, None, checklist)
    change.set(ticket, status=Status.CLOSED, closed_at=change.now, review_due_at=None)
    return change.done()


def return_review(ticket, actor, *, version, return_to, reason, checklist=None):
    """A supervisor's audit finds a gap: the case goes back to a named step, with comments,
    and the assignee is told at once."""
    change = Change(ticket, actor, "return_review", {"return_to": return_to, "reason": reason}, version=version)
    _decide_latest_review(ticket, actor, change, ReviewDecision.RETURNED, reason, return_to, checklist)
    change.changes["reason"] = (None, reason)
    _rewind(change, Step(return_to))
    returned = {"reason": reason, "returned_by": actor.name, "return_to": str(return_to)}
    notify_assignee(ticket, "review_returned", change.now, details=returned)
    return change.done()


def _decide_latest_review(ticket, actor, change, decision, comments, return_to, checklist):
    review = db.session.scalars(
        select(ReviewRecord).where(ReviewRecord.ticket_id == ticket.id).order_by(ReviewRecord.id.desc())
    ).first()
    if review is not None and review.decision is None:
        review.decision, review.decided_by_id, review.decided_at = decision, actor.id, change.now
        review.comments, review.return_to = comments or None, return_to
        review.checklist = dict(checklist or {})
    change.changes["decision"] = (None, decision)
    if checklist:
        change.changes["checklist"] = (None, sorted(item for item, ok in checklist.items() if ok))


def _rewind(change, step: Step) -> None:
    """Going back a step undoes what later steps established, so they must be done again."""
    ticket = change.ticket
    change.set(ticket, review_recorded_at=None, review_due_at=None, follow_up_due_at=None, clock_paused_at=None)
    if step in (Step.LISTEN, Step.APOLOGISE, Step.ANALYSE, Step.RESOLVE):
        # A new proposal is needed: its clock starts again now.
        change.set(
            ticket,
            resolution_state=ResolutionState.NONE,
            promised_date=None,
            resolution_due_at=resolution_deadline(ticket, change.now),
        )
    if step in (Step.LISTEN, Step.APOLOGISE, Step.ANALYSE):
        change.set(ticket, analysed_at=None)
