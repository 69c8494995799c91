"""The six handling steps as a state machine: which action is allowed when, and where it leads.

Pure rules, no database and no HTTP. Each action is one row of RULES: the steps it
may start from, the statuses it needs, named guards that each give a readable
reason when they refuse, and the step it leads to. `check()` is the only reader.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ticketing import refusals
from ticketing.cases.vocabulary import (
    COMPENSATION_KIND_OF,
    PRIORITY_RANK,
    STEP_ORDER,
    CompensationKind,
    Outcome,
    PreventiveState,
    Priority,
    Retention,
    Role,
    Status,
    Step,
)
from ticketing.cases.vocabulary import ResolutionState as RS
from ticketing.i18n import lazy_gettext as _l


class WorkflowError(refusals.Refusal):
    """An action the rules forbid; `reason` is a translatable sentence for the user.

    `field` names the piece of the action's data the reason is about (a form shows it there).
    A refusal about the case is a conflict (409); one about a piece of the data, bad input (422)."""

    def __init__(self, reason, field: str | None = None):
        super().__init__(reason, field=field, status=refusals.UNPROCESSABLE if field is not None else refusals.CONFLICT)


@dataclass(frozen=True)
class Context:
    """What a guard may look at: the case, who acts (None: the customer), the action's data."""

    ticket: Any
    actor: Any | None
    data: Mapping[str, Any] = field(default_factory=dict)
    limits: Mapping[str, Decimal | int] = field(default_factory=dict)
    currency: str | None = None  # the desk's one currency (settings); None: not checked


Guard = Callable[[Context], Any]  # returns None when satisfied, else a reason


def _is_supervisor(actor) -> bool:
    return actor is not None and actor.role in (Role.SUPERVISOR, Role.ADMIN)


# --- guards -----------------------------------------------------------------


def staff(ctx):
    if ctx.actor is None:
        return _l("Only staff can do this.")


def supervisor(ctx):
    if not _is_supervisor(ctx.actor):
        return _l("Only a supervisor can do this.")


def works_the_case(ctx):
    """Agents work their own (or unassigned) cases; supervisors any case."""
    if ctx.actor is None:
        return _l("Only staff can do this.")
    if _is_supervisor(ctx.actor) or ctx.ticket.assignee_id in (None, ctx.actor.id):
        return None
    return _l("This case is assigned to someone else; ask a supervisor to reassign it.")


def staff_or_customer(ctx):
    if ctx.actor is None:
        return None
    return works_the_case(ctx)


def cause_analysed(ctx):
    if ctx.ticket.analysed_at is None:
        return _l("A resolution needs an analysed cause first.")


def open_for_proposal(ctx):
    if ctx.ticket.resolution_state not in (RS.NONE, RS.REJECTED, RS.REFUSED):
        return _l("A proposal is already under way: %(state)s.", state=RS(ctx.ticket.resolution_state).label)


def _state_is(state: RS, reason):
    def guard(ctx):
        if ctx.ticket.resolution_state != state:
            return reason

    guard.__name__ = f"resolution_{state.value}"
    return guard


awaiting_approval = _state_is(RS.AWAITING_APPROVAL, _l("No compensation is waiting for approval."))
awaiting_customer = _state_is(RS.AWAITING_CUSTOMER, _l("No proposal is waiting for the customer's answer."))
accepted = _state_is(RS.ACCEPTED, _l("The customer has not accepted the proposed resolution yet."))
carried_out = _state_is(RS.CARRIED_OUT, _l("Follow-up needs the resolution carried out first."))


def within_approver_limit(ctx):
    amount = Decimal(ctx.data.get("amount") or 0)
    limit = ctx.limits.get(ctx.actor.role) if ctx.actor is not None else None
    if limit is not None and amount > Decimal(limit):
        return _l("This compensation is above your own approval limit (%(limit)s).", limit=limit)


def reason_given(ctx):
    if not str(ctx.data.get("reason") or "").strip():
        return FieldReason(_l("Please give a reason."), "reason")


def customer_only(ctx):
    if ctx.actor is not None:
        return _l("Only the customer can ask to reopen a case here.")


def within_reopen_window(ctx):
    """A customer may reopen a closed case for a while; after that, they complain anew."""
    closed_at, now, days = ctx.ticket.closed_at, ctx.data.get("now"), ctx.data.get("reopen_days")
    if closed_at is None or now is None or days is None or now - closed_at > timedelta(days=days):
        return _l("This case was closed too long ago to reopen; please tell us about the problem again.")


def follow_up_target(ctx):
    if ctx.data.get("outcome") == Outcome.UNSATISFIED and ctx.data.get("return_to") not in (Step.ANALYSE, Step.RESOLVE):
        return FieldReason(
            _l("An unsatisfied customer sends the case back to analysis or resolution: choose one."), "return_to"
        )


def review_target(ctx):
    if ctx.data.get("return_to") not in STEP_ORDER[:-1]:
        return FieldReason(_l("Choose the step the case goes back to."), "return_to")


def review_recorded(ctx):
    if ctx.ticket.review_recorded_at is None:
        return _l("The summary and lessons must be recorded before the review can be approved.")


def merge_target(ctx):
    target = ctx.data.get("target")
    if target is None:
        return _l("Name the case this one duplicates.")
    if target.id == ctx.ticket.id:
        return _l("A case cannot be merged into itself.")
    if target.status != Status.OPEN:
        return _l("A case can only be merged into an open case.")


def may_assign(ctx):
    """Supervisors assign anyone; an agent may only take an unassigned case."""
    if _is_supervisor(ctx.actor) or (ctx.actor is not None and ctx.ticket.assignee_id is None):
        return None
    return _l("Only a supervisor can reassign a case.")


def agent_takes_for_self(ctx):
    if _is_supervisor(ctx.actor):
        return None
    assignee = ctx.data.get("assignee")
    if assignee is None or assignee.id != ctx.actor.id:
        return _l("An agent can only take an unassigned case for themselves.")


PROMISE_HORIZON = timedelta(days=730)  # a promise further out than two years is not a promise


def in_the_desks_currency(ctx):
    """One currency per desk: limits, precedents and figures are in it, so a proposal is too — a
    proposal in no currency or another one is refused (never passed on: its limits would not apply)."""
    currency = str(ctx.data.get("currency") or "").strip().upper()
    if ctx.currency and currency != ctx.currency.upper():
        return FieldReason(
            _l("This desk works in %(desk)s: propose the compensation in %(desk)s.", desk=ctx.currency), "currency"
        )


def economic_lines_priced(ctx):
    """Money-like compensation (refund, voucher, …) must say how much."""
    for number, line in enumerate(ctx.data.get("lines") or ()):
        economic = COMPENSATION_KIND_OF.get(str(line.get("type") or "")) == CompensationKind.ECONOMIC
        if economic and line.get("amount") is None:
            return FieldReason(_l("Economic compensation needs an amount."), f"lines.{number}")
        if line.get("amount") is not None and Decimal(line["amount"]) < 0:
            return FieldReason(_l("Compensation amounts cannot be negative."), f"lines.{number}.amount")


def promise_in_reach(ctx):
    """The promised date is today or later (in the desk's timezone), and within two years."""
    promised, today = ctx.data.get("promised_date"), ctx.data.get("today")
    if promised is None or today is None:
        return FieldReason(_l("Give the date the resolution will be done by."), "promised_date")
    if promised < today:
        return FieldReason(_l("The promised date cannot be in the past."), "promised_date")
    if promised > today + PROMISE_HORIZON:
        return FieldReason(_l("The promised date must be within the next two years."), "promised_date")


LEAVING = frozenset({Retention.LOST, Retention.AT_RISK})  # judgements that put a customer on Customers at risk


def churn_judged_when_leaving(ctx):
    """A customer judged lost or at risk: what kind of churn (seed 003) and its cause (seed 000)."""
    if ctx.data.get("retention") not in LEAVING:
        return None
    if not ctx.data.get("churn_type"):
        return FieldReason(_l("The customer is judged lost or at risk: say what kind of churn this is."), "churn_type")
    if not ctx.data.get("churn_cause"):
        return FieldReason(_l("The customer is judged lost or at risk: say what causes it."), "churn_cause")


def no_churn_when_retained(ctx):
    """A retained customer is not churning: a kind or cause of churn would be counted as one."""
    if ctx.data.get("retention") in LEAVING:
        return None
    for name in ("churn_type", "churn_cause"):
        if ctx.data.get(name):
            return FieldReason(_l("The customer is retained: leave the kind and the cause of churn empty."), name)


def reviewer_did_not_handle(ctx):
    """Four eyes: whoever approves a case's review did not handle it (`handlers`: who listened,
    analysed, proposed, followed up or recorded the review), unless the desk is one person's."""
    if ctx.actor is not None and ctx.actor.id in ctx.data.get("handlers", ()) and not ctx.data.get("one_person_desk"):
        return _l(
            "Four eyes: you handled this case (listened, analysed, proposed, followed up or recorded the review), "
            "so another supervisor approves its review."
        )


def approver_did_not_propose(ctx):
    """Four eyes: nobody approves compensation they proposed, unless the desk is one person's."""
    if ctx.actor is not None and ctx.data.get("proposer_id") == ctx.actor.id and not ctx.data.get("one_person_desk"):
        return _l("Four eyes: you proposed this compensation, so another supervisor approves it.")


def within_every_limit(ctx):
    """No approver may grant more than the highest limit: such an offer is refused at once."""
    highest = max((Decimal(limit) for limit in ctx.limits.values()), default=None)
    if highest is not None and Decimal(ctx.data.get("total") or 0) > highest:
        return _l("This compensation is above every approver's limit (%(limit)s); reduce it.", limit=highest)


def proportion_explained(ctx):
    """An offer out of proportion to the loss (cases/fair_offers.py) says why it is fair."""
    if ctx.data.get("out_of_proportion") and not str(ctx.data.get("justification") or "").strip():
        return FieldReason(
            _l(
                "This offer is out of proportion to the customer's loss (up to %(allowance)s goes without approval): "
                "say why it is fair, and a supervisor approves it.",
                allowance=ctx.data.get("allowance"),
            ),
            "justification",
        )


def preventive_action_open(ctx):
    action = ctx.data.get("preventive_action")
    if action is None or action.status != PreventiveState.OPEN:
        return _l("This action is already done.")


def owner_or_supervisor(ctx):
    action = ctx.data.get("preventive_action")
    if ctx.actor is None or not (_is_supervisor(ctx.actor) or action.owner_id == ctx.actor.id):
        return _l("Only the owner or a supervisor can do this.")


def preventive_action_done(ctx):
    action = ctx.data.get("preventive_action")
    if action is None or action.status != PreventiveState.DONE:
        return _l("Only a finished action can be verified.")


def links_to_revoke(ctx):
    if not ctx.data.get("live_links"):
        return _l("No private link of this case works now: there is nothing to revoke.")


def scheduler_only(ctx):
    if ctx.actor is not None:
        return _l("Only the scheduler does this.")


TRIAGE_FIELDS = ("category", "priority", "product", "subject")


def triage_changes_something(ctx):
    """A re-triage changes at least one of the fields it names (the data holds only those given)."""
    given = [name for name in TRIAGE_FIELDS if name in ctx.data]
    if not any(ctx.data[name] != getattr(ctx.ticket, name, None) for name in given):
        return FieldReason(_l("Nothing would change: the case already has these values."), (given or ["category"])[0])


def escalation_asked(ctx):
    """An escalation raises the priority, hands the case to someone else, or both."""
    priority, assignee = ctx.data.get("priority"), ctx.data.get("assignee")
    if priority is None and assignee is None:
        return FieldReason(_l("Raise the priority, hand the case to someone, or both."), "priority")
    if priority is not None:
        current = Priority(getattr(ctx.ticket, "priority", None) or Priority.NORMAL)
        if current == Priority.URGENT:
            return FieldReason(_l("The case is already urgent: hand it to someone to escalate it."), "priority")
        if priority not in PRIORITY_RANK or PRIORITY_RANK[priority] >= PRIORITY_RANK[current]:
            return FieldReason(
                _l("An escalation raises the priority: choose one above “%(priority)s”.", priority=current.label),
                "priority",
            )
    if assignee is not None and assignee.id == ctx.ticket.assignee_id:
        return FieldReason(
            _l("The case is already theirs: choose someone else, or only raise the priority."), "assignee"
        )


# --- where an action leads ---------------------------------------------------


def _after_follow_up(ticket, data) -> Step:
    if data.get("outcome") == Outcome.SATISFIED:
        return Step.REVIEW
    return Step(data["return_to"])


def _returned_step(ticket, data) -> Step:
    return Step(data["return_to"])


def _reopened_step(ticket, data) -> Step:
    """Back to analysis; a case cancelled before it got there goes on from where it stopped,
    so listening and the apology are never skipped."""
    return min(Step(ticket.step), Step.ANALYSE, key=STEP_ORDER.index)


@dataclass(frozen=True)
class Rule:
    steps: frozenset | None  # None: any step
    guards: tuple = ()
    to: Step | Callable | None = None  # None: the step does not change
    statuses: frozenset = frozenset({Status.OPEN})
    # A side action adds to the case's file without changing the case itself: it never bumps the
    # case's version, so it cannot make a colleague's open form stale (notes, files, ratings…).
    side: bool = False
    offered: bool = True  # False: never among a case page's actions (made by intake, the portal, the scheduler, review)


@dataclass(frozen=True)
class FieldReason:
    """A guard's reason about one piece of the action's data."""

    reason: Any
    field: str

    def __str__(self) -> str:
        return str(self.reason)


_OPEN_ANY = None
_ENDED = frozenset({Status.CLOSED, Status.CANCELLED})
_EVERY_STATUS = frozenset(Status)

RULES: dict[str, Rule] = {
    "create": Rule(_OPEN_ANY, (), side=True, offered=False),
    # the six steps
    "listen": Rule(frozenset({Step.LISTEN}), (works_the_case,), Step.APOLOGISE),
    "apologise": Rule(frozenset({Step.APOLOGISE}), (works_the_case,), Step.ANALYSE),
    "analyse": Rule(frozenset({Step.ANALYSE}), (works_the_case,), Step.RESOLVE),
    "propose": Rule(
        frozenset({Step.RESOLVE}),
        (
            works_the_case,
            cause_analysed,
            open_for_proposal,
            promise_in_reach,
            in_the_desks_currency,
            economic_lines_priced,
            within_every_limit,
            proportion_explained,
        ),
    ),
    "approve_compensation": Rule(
        frozenset({Step.RESOLVE}), (supervisor, awaiting_approval, within_approver_limit, approver_did_not_propose)
    ),
    "refuse_compensation": Rule(frozenset({Step.RESOLVE}), (supervisor, awaiting_approval, reason_given)),
    "customer_accepts": Rule(frozenset({Step.RESOLVE}), (staff_or_customer, awaiting_customer)),
    "customer_rejects": Rule(frozenset({Step.RESOLVE}), (staff_or_customer, awaiting_customer, reason_given)),
    "carry_out": Rule(frozenset({Step.RESOLVE}), (works_the_case, accepted), Step.FOLLOW_UP),
    "follow_up": Rule(
        frozenset({Step.FOLLOW_UP}),
        (works_the_case, carried_out, follow_up_target, churn_judged_when_leaving, no_churn_when_retained),
        _after_follow_up,
    ),
    "record_review": Rule(frozenset({Step.REVIEW}), (works_the_case,)),
    "approve_review": Rule(frozenset({Step.REVIEW}), (supervisor, review_recorded, reviewer_did_not_handle)),
    "return_review": Rule(frozenset({Step.REVIEW}), (supervisor, review_target, reason_given), _returned_step),
    # around the steps
    "assign": Rule(_OPEN_ANY, (staff, may_assign, agent_takes_for_self)),
    "note": Rule(_OPEN_ANY, (staff,), statuses=_EVERY_STATUS, side=True),
    "message": Rule(_OPEN_ANY, (staff_or_customer,)),
    "cancel": Rule(_OPEN_ANY, (works_the_case, reason_given)),
    "merge": Rule(_OPEN_ANY, (works_the_case, reason_given, merge_target)),
    # re-triage: what the case is about and how urgent, corrected from intake to review
    "triage": Rule(_OPEN_ANY, (works_the_case, triage_changes_something)),
    # a higher priority and/or a new holder, with the reason; an agent may hand their case on this way
    "escalate": Rule(_OPEN_ANY, (works_the_case, reason_given, escalation_asked)),
    # the resolution deadline was missed and the desk escalates such cases by itself (one level up, once)
    "auto_escalate": Rule(_OPEN_ANY, (scheduler_only,), offered=False),
    # the running deadlines timed again by the settings in force (the settings page, for every open case)
    "recompute_deadlines": Rule(_OPEN_ANY, (supervisor,), offered=False),
    "reopen": Rule(_OPEN_ANY, (supervisor, reason_given), _reopened_step, statuses=_ENDED),
    "customer_reopens": Rule(
        _OPEN_ANY,
        (customer_only, reason_given, within_reopen_window),
        Step.ANALYSE,
        statuses=frozenset({Status.CLOSED}),
    ),
    # side actions: the case's file grows, the case itself does not change
    "attach": Rule(_OPEN_ANY, (customer_only,), side=True, offered=False),
    "rate": Rule(_OPEN_ANY, (customer_only,), statuses=_EVERY_STATUS, side=True, offered=False),
    # the survey answers a customer gave on the phone, taken down by staff (offered while a survey is due)
    "record_survey": Rule(_OPEN_ANY, (works_the_case,), statuses=_EVERY_STATUS, side=True, offered=False),
    "suggest_compensation": Rule(_OPEN_ANY, (scheduler_only,), side=True, offered=False),
    "add_preventive_action": Rule(_OPEN_ANY, (supervisor,), statuses=_EVERY_STATUS, side=True, offered=False),
    "complete_preventive_action": Rule(
        _OPEN_ANY, (preventive_action_open, owner_or_supervisor), statuses=_EVERY_STATUS, side=True, offered=False
    ),
    "verify_preventive_action": Rule(
        _OPEN_ANY, (supervisor, preventive_action_done), statuses=_EVERY_STATUS, side=True, offered=False
    ),
    # staff end every private link of the case (one reached the wrong person); the customer may ask anew
    "revoke_links": Rule(
        _OPEN_ANY, (works_the_case, links_to_revoke), statuses=_EVERY_STATUS, side=True, offered=False
    ),
    # the customer's record was merged into another (cases.customers.merge_customers): the case moves along
    "customer_merged": Rule(_OPEN_ANY, (staff,), statuses=_EVERY_STATUS, side=True, offered=False),
    # the case's product was merged into another (cases.catalogue_edits.merge_products): it counts there now
    "product_merged": Rule(_OPEN_ANY, (staff,), statuses=_EVERY_STATUS, side=True, offered=False),
}

ACTIONS = tuple(RULES)

# Guards that judge the action's own data, not the case: skipped when asking
# which actions to offer before the user has filled anything in.
DATA_GUARDS = {
    reason_given,
    follow_up_target,
    review_target,
    merge_target,
    within_approver_limit,
    agent_takes_for_self,
    within_reopen_window,
    promise_in_reach,
    in_the_desks_currency,
    economic_lines_priced,
    within_every_limit,
    proportion_explained,
    churn_judged_when_leaving,
    no_churn_when_retained,
    triage_changes_something,
    escalation_asked,
}


def refusal(action: str, ctx: Context, ignore_data: bool = False):
    """The reason `action` is not allowed now, or None when it is."""
    rule = RULES.get(action)
    if rule is None:
        return _l("Unknown action.")
    ticket = ctx.ticket
    if ticket.status not in rule.statuses:
        if ticket.status == Status.OPEN:
            return _l("Only a closed or cancelled case can be reopened.")
        return _l("This case is %(status)s; nothing more can be done to it.", status=Status(ticket.status).label)
    if rule.steps is not None and ticket.step not in rule.steps:
        return _l("This case is at step “%(step)s”; that action belongs to another step.", step=Step(ticket.step).label)
    for guard in rule.guards:
        if ignore_data and guard in DATA_GUARDS:
            continue
        reason = guard(ctx)
        if reason is not None:
            return reason
    return None


def check(action: str, ctx: Context) -> None:
    """Raise WorkflowError with the reason when `action` is not allowed now."""
    reason = refusal(action, ctx)
    if isinstance(reason, FieldReason):
        raise WorkflowError(reason.reason, reason.field)
    if reason is not None:
        raise WorkflowError(reason)


def next_step(action: str, ticket, data: Mapping[str, Any]) -> Step:
    """The step the case is at after `action` succeeds."""
    target = RULES[action].to
    if target is None:
        return Step(ticket.step)
    return target(ticket, data) if callable(target) else target


def offered_actions(ctx: Context) -> set[str]:
    """The actions the actor could take now, before filling in their data (for the case page)."""
    return {action for action, rule in RULES.items() if rule.offered and refusal(action, ctx, ignore_data=True) is None}
