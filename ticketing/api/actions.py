"""The workflow actions the API performs: each one's request body and its one service call.

Named as in the workflow vocabulary (DESIGN.md); the customer's own `customer_reopens`
belongs to the portal and is not offered here.
"""
from dataclasses import dataclass
from typing import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ticketing.api import schemas as s
from ticketing.auth.models import User
from ticketing.cases import services
from ticketing.cases.workflow import WorkflowError
from ticketing.cases.queries import find_ticket
from ticketing.extensions import db


@dataclass(frozen=True)
class Action:
    body: type[s.Body]
    perform: Callable  # (ticket, actor, body) -> Event
    summary: str


def _fields(body: s.Body, *exclude: str) -> dict:
    return {name: getattr(body, name) for name in type(body).model_fields if name not in ("version", *exclude)}


def _propose(ticket, actor, body: s.ProposeIn):
    lines = [{"type": line.type.value, "description": line.description or "", "amount": line.amount}
             for line in body.compensation]
    return services.propose_resolution(
        ticket, actor, version=body.version, method=body.method, promised_date=body.promised_date,
        currency=body.currency or current_app.config["DEFAULT_CURRENCY"], estimated_loss=body.estimated_loss,
        lines=lines)


def _assign(ticket, actor, body: s.AssignIn):
    assignee = db.session.scalar(select(User).where(User.id == body.assignee_id, User.active.is_(True)))
    if assignee is None:
        raise WorkflowError(_l("There is no active staff member with that id."))
    return services.assign_case(ticket, actor, version=body.version, assignee=assignee)


def _merge(ticket, actor, body: s.MergeIn):
    target = find_ticket(body.target) if body.target.isascii() else None
    if target is None:
        raise WorkflowError(_l("There is no case with that reference."))
    return services.merge_case(ticket, actor, version=body.version, target=target, reason=body.reason)


ACTIONS: dict[str, Action] = {
    "listen": Action(s.ListenIn, lambda t, a, b: services.record_listening(
        t, a, version=b.version, **_fields(b)), "Record step 1: the complaint heard and restated"),
    "apologise": Action(s.ApologiseIn, lambda t, a, b: services.record_apology(
        t, a, version=b.version, **_fields(b)), "Record step 2: the apology"),
    "analyse": Action(s.AnalyseIn, lambda t, a, b: services.record_analysis(
        t, a, version=b.version, **_fields(b)), "Record step 3: the cause, judged fairly"),
    "propose": Action(s.ProposeIn, _propose, "Propose a resolution with compensation"),
    "approve_compensation": Action(s.CommentsIn, lambda t, a, b: services.approve_compensation(
        t, a, version=b.version, comments=b.comments), "Approve compensation above the proposer's limit"),
    "refuse_compensation": Action(s.ReasonIn, lambda t, a, b: services.refuse_compensation(
        t, a, version=b.version, reason=b.reason), "Refuse compensation above the proposer's limit"),
    "customer_accepts": Action(s.CustomerAcceptsIn, lambda t, a, b: services.record_customer_answer(
        t, a, version=b.version, accepted=True, reason=b.reason), "The customer accepts the proposal"),
    "customer_rejects": Action(s.ReasonIn, lambda t, a, b: services.record_customer_answer(
        t, a, version=b.version, accepted=False, reason=b.reason), "The customer rejects the proposal"),
    "carry_out": Action(s.CarryOutIn, lambda t, a, b: services.carry_out_resolution(
        t, a, version=b.version, note=b.note), "The accepted resolution is carried out"),
    "follow_up": Action(s.FollowUpIn, lambda t, a, b: services.record_follow_up(
        t, a, version=b.version, **_fields(b)), "Record step 5: the follow-up with the customer"),
    "record_review": Action(s.RecordReviewIn, lambda t, a, b: services.record_review(
        t, a, version=b.version, **_fields(b)), "Record step 6: the summary and the lesson"),
    "approve_review": Action(s.CommentsIn, lambda t, a, b: services.approve_review(
        t, a, version=b.version, comments=b.comments), "Approve the review: the case closes"),
    "return_review": Action(s.ReturnReviewIn, lambda t, a, b: services.return_review(
        t, a, version=b.version, return_to=b.return_to, reason=b.reason), "Return the case to a step"),
    "assign": Action(s.AssignIn, _assign, "Assign the case to a staff member"),
    "note": Action(s.BodyIn, lambda t, a, b: services.add_note(
        t, a, body=b.body, version=b.version), "Add an internal note"),
    "message": Action(s.BodyIn, lambda t, a, b: services.send_message(
        t, a, body=b.body, version=b.version), "Send a message the customer sees"),
    "cancel": Action(s.ReasonIn, lambda t, a, b: services.cancel_case(
        t, a, version=b.version, reason=b.reason), "Cancel a case that needs no handling"),
    "merge": Action(s.MergeIn, _merge, "Merge a duplicate into the case it repeats"),
    "reopen": Action(s.ReasonIn, lambda t, a, b: services.reopen_case(
        t, a, version=b.version, reason=b.reason), "Reopen a closed or cancelled case"),
}
