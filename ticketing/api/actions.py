"""The workflow actions the API performs: each one's request body, performed through the action registry.

Named as in the workflow vocabulary (DESIGN.md); the customer's own `customer_reopens`
belongs to the portal and is not offered here. What each action does, and its summary in the
reference, is the registry's (ticketing/cases/actions.py).
"""

from collections.abc import Callable
from dataclasses import dataclass

from ticketing.api import schemas as s
from ticketing.cases.actions import ACTIONS as REGISTRY
from ticketing.cases.actions import perform
from ticketing.cases.settings import desk


def _fields(body: s.Body) -> dict:
    return {name: getattr(body, name) for name in type(body).model_fields if name != "version"}


def _proposal(body: s.ProposeIn) -> dict:
    lines = [
        {"type": line.type.value, "description": line.description or "", "amount": line.amount}
        for line in body.compensation
    ]
    return {**_fields(body), "lines": lines, "currency": body.currency or desk().currency}


def _assignment(body: s.AssignIn) -> dict:
    return {"assignee": body.assignee_id}


def _triage(body: s.TriageIn) -> dict:
    """The fields the body names; a `null` one is cleared (a missing one stays as it is)."""
    return {name: getattr(body, name) or "" for name in body.model_fields_set if name != "version"}


def _escalation(body: s.EscalateIn) -> dict:
    holder = {"assignee": body.assignee_id} if body.assignee_id is not None else {}
    return {"reason": body.reason, "priority": body.priority, **holder}


@dataclass(frozen=True)
class Action:
    name: str
    body: type[s.Body]
    data: Callable = _fields  # (body) -> the action's data

    @property
    def summary(self) -> str:
        return REGISTRY[self.name].summary

    def perform(self, ticket, actor, body):
        return perform(self.name, ticket, actor, version=body.version, data=self.data(body))


BODIES: dict[str, tuple] = {
    "listen": (s.ListenIn,),
    "apologise": (s.ApologiseIn,),
    "analyse": (s.AnalyseIn,),
    "propose": (s.ProposeIn, _proposal),
    "approve_compensation": (s.CommentsIn,),
    "refuse_compensation": (s.ReasonIn,),
    "customer_accepts": (s.CustomerAcceptsIn,),
    "customer_rejects": (s.ReasonIn,),
    "carry_out": (s.CarryOutIn,),
    "follow_up": (s.FollowUpIn,),
    "record_review": (s.RecordReviewIn,),
    "approve_review": (s.CommentsIn,),
    "return_review": (s.ReturnReviewIn,),
    "assign": (s.AssignIn, _assignment),
    "note": (s.BodyIn,),
    "message": (s.BodyIn,),
    "cancel": (s.ReasonIn,),
    "merge": (s.MergeIn,),
    "reopen": (s.ReasonIn,),
    "triage": (s.TriageIn, _triage),
    "escalate": (s.EscalateIn, _escalation),
}
ACTIONS: dict[str, Action] = {name: Action(name, *body) for name, body in BODIES.items()}
