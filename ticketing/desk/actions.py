"""Each case action the desk offers: its form, the registered action it performs, what it says when done."""

from collections.abc import Callable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from flask import g
from flask_login import current_user

from ticketing.cases import catalogue, rework
from ticketing.cases.actions import ACTIONS, perform
from ticketing.cases.queries import active_staff
from ticketing.cases.services.guarantee import open_suggestions
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import PRIORITY_RANK, Priority
from ticketing.clock import as_utc
from ticketing.desk import forms
from ticketing.forms_common import options
from ticketing.i18n import lazy_gettext as _l


def _form_data(form) -> dict:
    """The action's data as the form carries it (field names without the form's prefix)."""
    return {field.short_name: field.data for field in form if field.short_name not in ("version", "csrf_token")}


def _local_to_utc(value):
    """A datetime-local field is in the user's timezone; store it in UTC."""
    if value is None:
        return None
    return as_utc(value.replace(tzinfo=ZoneInfo(current_user.timezone)))


@dataclass(frozen=True)
class ActionSpec:
    """A desk form for one registered action (`action`, or picked from the form by a callable)."""

    form: type
    done: object  # the flash message on success
    action: str | Callable | None = None  # None: the action named like the form
    data: Callable = _form_data  # (form) -> the action's data

    def perform(self, form, ticket):
        action = self.action(form) if callable(self.action) else self.action
        return perform(action, ticket, current_user, version=form.version.data, data=self.data(form))


def listen_data(form) -> dict:
    """Step 1's data from the listen form or the intake form (which carries more than step 1)."""
    data = _form_data(form)
    return {
        **{name: data[name] for name in ACTIONS["listen"].fields if name in data},
        "occurred_at": _local_to_utc(form.occurred_at.data),
    }


def _proposal_data(form) -> dict:
    return {**_form_data(form), "lines": form.compensation_lines()}


def _escalation_data(form) -> dict:
    """The escalation's data; no holder chosen means the case stays with its holder."""
    data = _form_data(form)
    if data.get("assignee") is None:
        data.pop("assignee", None)
    return {**data, "priority": data.get("priority") or None}


def _answer(form) -> str:
    return "customer_accepts" if form.answer.data == "accept" else "customer_rejects"


SPECS: dict[str, ActionSpec] = {
    "listen": ActionSpec(forms.ListenForm, _l("Step 1 recorded: the complaint is heard."), data=listen_data),
    "apologise": ActionSpec(forms.ApologyForm, _l("The apology is recorded.")),
    "analyse": ActionSpec(forms.AnalysisForm, _l("The analysis is recorded.")),
    "propose": ActionSpec(forms.ProposalForm, _l("The resolution is proposed."), data=_proposal_data),
    "approve_compensation": ActionSpec(forms.CommentForm, _l("Compensation approved.")),
    "refuse_compensation": ActionSpec(forms.ReasonForm, _l("Compensation refused.")),
    "customer_answer": ActionSpec(forms.CustomerAnswerForm, _l("The customer's answer is recorded."), _answer),
    "carry_out": ActionSpec(forms.CarryOutForm, _l("The resolution is carried out.")),
    "follow_up": ActionSpec(forms.FollowUpForm, _l("The follow-up is recorded.")),
    "record_survey": ActionSpec(forms.PhoneSurveyForm, _l("The customer's answers to the survey are saved.")),
    "record_review": ActionSpec(
        forms.ReviewForm, _l("The summary is recorded; the case waits for a supervisor's review.")
    ),
    "approve_review": ActionSpec(forms.CommentForm, _l("Review approved: the case is closed.")),
    "return_review": ActionSpec(forms.ReturnReviewForm, _l("The case is returned with your comments.")),
    "assign": ActionSpec(forms.AssignForm, _l("The case is assigned.")),
    "note": ActionSpec(forms.BodyForm, _l("Note added.")),
    "message": ActionSpec(forms.BodyForm, _l("Message sent to the customer.")),
    "cancel": ActionSpec(forms.ReasonForm, _l("The case is cancelled.")),
    "merge": ActionSpec(forms.MergeForm, _l("The case is merged as a duplicate.")),
    "reopen": ActionSpec(forms.ReasonForm, _l("The case is reopened.")),
    "triage": ActionSpec(forms.TriageForm, _l("The case is re-triaged.")),
    "escalate": ActionSpec(forms.EscalateForm, _l("The case is escalated."), data=_escalation_data),
}
SPECS = {name: replace(spec, action=spec.action or name) for name, spec in SPECS.items()}

# The desk answers for the customer with one form; the workflow knows two actions.
WORKFLOW_ACTIONS = {"customer_answer": ("customer_accepts", "customer_rejects")}


def build_form(action: str, ticket, formdata=None):
    """The form of `action` for `ticket`: bound to the request when posting, else prefilled."""
    spec = SPECS[action]
    kwargs = {"prefix": action}
    if formdata is None:
        kwargs.update(formdata=None, data=_defaults(action, ticket))
    form = spec.form(**kwargs)
    if action == "assign":
        form.assignee.choices = options(pairs=[(user.id, f"{user.name} ({user.role.label})") for user in _staff()])()
    if action == "triage":
        form.category.choices = options(
            blank=_l("— not yet known —"), pairs=lambda: catalogue.category_choices(keep=ticket.category)
        )()
    if action == "escalate":
        holders = _escalation_holders(ticket)
        higher = [(p.value, p.label) for p in Priority if PRIORITY_RANK[p] < PRIORITY_RANK[Priority(ticket.priority)]]
        # (callables: an empty list of pairs would read as "the enum's own choices")
        form.assignee.choices = options(blank=_l("— keep the holder —"), pairs=lambda: holders)()
        form.priority.choices = options(blank=_l("— keep the priority —"), pairs=lambda: higher)()
    return form


def _staff() -> list:
    """The active staff, read once per request: the case page's assignment and escalation forms both list them."""
    if "desk_staff" not in g:
        g.desk_staff = active_staff()
    return g.desk_staff


def _escalation_holders(ticket) -> list:
    """Who a case can be handed to: the supervisors first, then the colleagues; not its holder."""
    others = [user for user in _staff() if user.id != ticket.assignee_id]
    others.sort(key=lambda user: not user.is_supervisor)  # stable: by name within each group
    return [(user.id, f"{user.name} ({user.role.label})") for user in others]


def _defaults(action, ticket) -> dict:
    data = {"version": ticket.version}
    if action == "listen":  # step 1 starts from what the customer wrote (portal, API)
        data["customer_words"] = ticket.description
        data["expectation"] = ticket.customer_expectation
    if action in rework.STEP_FIELDS:  # a step done before (a returned case) starts from what was written
        data.update(rework.step_defaults(ticket, action))
    if action == "propose":
        # A new proposal starts from the last one (rejected, refused or sent back), for editing.
        data.update({"currency": desk().currency, **rework.proposal_defaults(ticket)})
        # The service guarantee's suggestion adds compensation lines; the agent confirms or edits.
        suggested = [{"compensation": s.type.value, "amount": s.amount} for s in open_suggestions(ticket)]
        data["lines"] = (data.get("lines", []) + suggested)[: forms.ProposalForm.lines.kwargs["max_entries"]]
    if action == "assign":
        data["assignee"] = ticket.assignee_id or current_user.id
    if action == "analyse":
        data["product"] = ticket.product or data.get("product")
    if action == "triage":
        data.update(
            category=ticket.category or "",
            priority=ticket.priority.value,
            product=ticket.product,
            subject=ticket.subject,
        )
    return data
