"""The action registry: every action on a case by name — the service that performs it, the data
it takes, how the record log names it, and the one line the API reference shows.

The desk, the API, the OpenAPI document and the record log all read this table; the rules of
each action are its row of `workflow.RULES` (a test keeps the two tables naming the same actions).
"""

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import select

from ticketing.auth.models import User
from ticketing.cases import services, survey, workflow
from ticketing.cases.models import Ticket
from ticketing.cases.queries import find_ticket
from ticketing.cases.workflow import WorkflowError
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l


@dataclass(frozen=True)
class Action:
    label: Any  # the record log's wording, past tense ("Cause analysed (step 3)")
    summary: str = ""  # what it does, for the API reference (English, like the rest of it)
    service: Callable | None = None  # (ticket, actor, *, version, **data); None: done by its own machinery
    fields: tuple[str, ...] = field(init=False, default=())  # the data it takes besides the version

    def __post_init__(self):
        if self.service is not None:
            parameters = inspect.signature(self.service).parameters.values()
            taken = tuple(p.name for p in parameters if p.kind is p.KEYWORD_ONLY and p.name != "version")
            object.__setattr__(self, "fields", taken)


ACTIONS: dict[str, Action] = {
    "create": Action(_l("Case opened")),
    # the six steps
    "listen": Action(
        _l("Complaint heard (step 1)"), "Record step 1: the complaint heard and restated", services.record_listening
    ),
    "apologise": Action(_l("Apology made (step 2)"), "Record step 2: the apology", services.record_apology),
    "analyse": Action(
        _l("Cause analysed (step 3)"), "Record step 3: the cause, judged fairly", services.record_analysis
    ),
    "propose": Action(
        _l("Resolution proposed (step 4)"), "Propose a resolution with compensation", services.propose_resolution
    ),
    "approve_compensation": Action(
        _l("Compensation approved"), "Approve compensation above the proposer's limit", services.approve_compensation
    ),
    "refuse_compensation": Action(
        _l("Compensation refused"), "Refuse compensation above the proposer's limit", services.refuse_compensation
    ),
    "customer_accepts": Action(
        _l("Customer accepted"),
        "The customer accepts the proposal",
        partial(services.record_customer_answer, accepted=True),
    ),
    "customer_rejects": Action(
        _l("Customer rejected"),
        "The customer rejects the proposal",
        partial(services.record_customer_answer, accepted=False),
    ),
    "carry_out": Action(
        _l("Resolution carried out"), "The accepted resolution is carried out", services.carry_out_resolution
    ),
    "follow_up": Action(
        _l("Followed up (step 5)"), "Record step 5: the follow-up with the customer", services.record_follow_up
    ),
    "record_review": Action(
        _l("Summary recorded (step 6)"), "Record step 6: the summary and the lesson", services.record_review
    ),
    "approve_review": Action(
        _l("Review approved, case closed"), "Approve the review: the case closes", services.approve_review
    ),
    "return_review": Action(_l("Review returned"), "Return the case to a step", services.return_review),
    # around the steps
    "assign": Action(_l("Assigned"), "Assign the case to a staff member", services.assign_case),
    "note": Action(_l("Internal note"), "Add an internal note", services.add_note),
    "message": Action(_l("Message to the customer"), "Send a message the customer sees", services.send_message),
    "cancel": Action(_l("Cancelled"), "Cancel a case that needs no handling", services.cancel_case),
    "merge": Action(_l("Merged as a duplicate"), "Merge a duplicate into the case it repeats", services.merge_case),
    "triage": Action(_l("Re-triaged"), "Correct the category, priority, product or subject", services.triage_case),
    "escalate": Action(
        _l("Escalated"), "Escalate with a reason: a higher priority, a new holder, or both", services.escalate_case
    ),
    "auto_escalate": Action(_l("Escalated automatically: the resolution deadline was missed")),
    "recompute_deadlines": Action(_l("Deadlines recomputed by the settings in force")),
    "reopen": Action(_l("Reopened"), "Reopen a closed or cancelled case", services.reopen_case),
    "customer_reopens": Action(_l("Reopened by the customer")),
    # side actions, most done by their own machinery
    "attach": Action(_l("Files attached by the customer")),
    "rate": Action(_l("Customer's rating")),
    "record_survey": Action(
        _l("Customer's rating, taken down by staff on the phone"),
        "Record the survey answers a customer gave on the phone",
        survey.record_phone_survey,
    ),
    "suggest_compensation": Action(_l("Service guarantee: compensation suggested")),
    "add_preventive_action": Action(_l("Preventive action added")),
    "complete_preventive_action": Action(_l("Preventive action done")),
    "verify_preventive_action": Action(_l("Preventive action verified")),
    "customer_merged": Action(_l("Customer records merged: the case moved to the surviving record")),
    "product_merged": Action(_l("Products merged: the case now counts under the surviving product")),
    "revoke_links": Action(_l("The customer's private links revoked")),
}

# Actions that never answer "changed meanwhile": side actions do not change the case, and a message
# moves the response clock in place (services.send_message), so they need no version.
NEVER_STALE = frozenset(name for name, rule in workflow.RULES.items() if rule.side) | {"message"}

# Actions any front door may perform by name with the data it was given.
PERFORMABLE = tuple(name for name, action in ACTIONS.items() if action.service is not None)


def perform(name: str, ticket: Ticket, actor, *, version, data: Mapping[str, Any]):
    """Perform action `name` with the data it takes (anything else given is ignored); returns the event.

    References arrive as front doors know them: an assignee by user id, a merge target by case
    reference; both are looked up here, the same for every door."""
    action = ACTIONS[name]
    given = {key: value for key, value in data.items() if key in action.fields}
    if "assignee" in given and not isinstance(given["assignee"], User):
        given["assignee"] = _active_staff_member(given["assignee"])
    if "target" in given and not isinstance(given["target"], Ticket):
        given["target"] = _case_by_reference(given["target"])
    return action.service(ticket, actor, version=version, **given)


def _active_staff_member(user_id) -> User:
    user = (
        db.session.scalar(select(User).where(User.id == user_id, User.active.is_(True)))
        if isinstance(user_id, int)
        else None
    )
    if user is None:
        raise WorkflowError(_l("There is no active staff member with that id."), "assignee")
    return user


def _case_by_reference(reference) -> Ticket:
    target = find_ticket(reference) if isinstance(reference, str) and reference.isascii() else None
    if target is None:
        raise WorkflowError(_l("There is no case with that reference."), "target")
    return target
