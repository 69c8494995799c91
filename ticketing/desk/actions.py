"""Each case action the desk offers: its form and the one service call it makes."""
from dataclasses import dataclass
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ticketing.cases import services
from ticketing.cases.services.guarantee import open_suggestions
from ticketing.cases.workflow import WorkflowError
from ticketing.desk import forms
from ticketing.cases.queries import active_staff, find_ticket
from ticketing.forms_common import options
from ticketing.clock import as_utc


@dataclass(frozen=True)
class ActionSpec:
    form: type
    perform: Callable  # (form, ticket) -> Event
    done: object       # the flash message on success


def _data(form, *names) -> dict:
    return {name: getattr(form, name).data for name in names}


def _local_to_utc(value):
    """A datetime-local field is in the user's timezone; store it in UTC."""
    if value is None:
        return None
    return as_utc(value.replace(tzinfo=ZoneInfo(current_user.timezone)))


LISTEN_FIELDS = ("customer_words", "restatement", "restatement_confirmed", "expectation", "emotion",
                 "dissatisfaction", "place")


def listen_data(form) -> dict:
    return {**_data(form, *LISTEN_FIELDS), "occurred_at": _local_to_utc(form.occurred_at.data)}


def _merge(form, ticket):
    target = find_ticket(form.target.data)
    if target is None:
        raise WorkflowError(_l("There is no case with that reference."))
    return services.merge_case(ticket, current_user, version=form.version.data, target=target,
                               reason=form.reason.data)


def _assign(form, ticket):
    assignee = next(user for user in active_staff() if user.id == form.assignee.data)
    return services.assign_case(ticket, current_user, version=form.version.data, assignee=assignee)


def _v(form):
    return form.version.data


SPECS: dict[str, ActionSpec] = {
    "listen": ActionSpec(forms.ListenForm, lambda f, t: services.record_listening(
        t, current_user, version=_v(f), **listen_data(f)), _l("Step 1 recorded: the complaint is heard.")),
    "apologise": ActionSpec(forms.ApologyForm, lambda f, t: services.record_apology(
        t, current_user, version=_v(f), **_data(f, "method", "wording")), _l("The apology is recorded.")),
    "analyse": ActionSpec(forms.AnalysisForm, lambda f, t: services.record_analysis(
        t, current_user, version=_v(f), **_data(f, "root_cause", "detail", "legitimacy", "responsibility",
                                                "motive", "product")), _l("The analysis is recorded.")),
    "propose": ActionSpec(forms.ProposalForm, lambda f, t: services.propose_resolution(
        t, current_user, version=_v(f), lines=f.compensation_lines(),
        **_data(f, "method", "promised_date", "estimated_loss", "currency")), _l("The resolution is proposed.")),
    "approve_compensation": ActionSpec(forms.CommentForm, lambda f, t: services.approve_compensation(
        t, current_user, version=_v(f), comments=f.comments.data), _l("Compensation approved.")),
    "refuse_compensation": ActionSpec(forms.ReasonForm, lambda f, t: services.refuse_compensation(
        t, current_user, version=_v(f), reason=f.reason.data), _l("Compensation refused.")),
    "customer_answer": ActionSpec(forms.CustomerAnswerForm, lambda f, t: services.record_customer_answer(
        t, current_user, version=_v(f), accepted=f.answer.data == "accept", reason=f.reason.data),
        _l("The customer's answer is recorded.")),
    "carry_out": ActionSpec(forms.CarryOutForm, lambda f, t: services.carry_out_resolution(
        t, current_user, version=_v(f), note=f.note.data), _l("The resolution is carried out.")),
    "follow_up": ActionSpec(forms.FollowUpForm, lambda f, t: services.record_follow_up(
        t, current_user, version=_v(f), **_data(f, "method", "outcome", "satisfaction", "retention",
                                                "churn_type", "notes", "return_to")), _l("The follow-up is recorded.")),
    "record_review": ActionSpec(forms.ReviewForm, lambda f, t: services.record_review(
        t, current_user, version=_v(f), **_data(f, "summary", "lesson", "preventive_action")),
        _l("The summary is recorded; the case waits for a supervisor's review.")),
    "approve_review": ActionSpec(forms.CommentForm, lambda f, t: services.approve_review(
        t, current_user, version=_v(f), comments=f.comments.data), _l("Review approved: the case is closed.")),
    "return_review": ActionSpec(forms.ReturnReviewForm, lambda f, t: services.return_review(
        t, current_user, version=_v(f), return_to=f.return_to.data, reason=f.reason.data),
        _l("The case is returned with your comments.")),
    "assign": ActionSpec(forms.AssignForm, _assign, _l("The case is assigned.")),
    "note": ActionSpec(forms.BodyForm, lambda f, t: services.add_note(
        t, current_user, body=f.body.data), _l("Note added.")),
    "message": ActionSpec(forms.BodyForm, lambda f, t: services.send_message(
        t, current_user, body=f.body.data), _l("Message sent to the customer.")),
    "cancel": ActionSpec(forms.ReasonForm, lambda f, t: services.cancel_case(
        t, current_user, version=_v(f), reason=f.reason.data), _l("The case is cancelled.")),
    "merge": ActionSpec(forms.MergeForm, _merge, _l("The case is merged as a duplicate.")),
    "reopen": ActionSpec(forms.ReasonForm, lambda f, t: services.reopen_case(
        t, current_user, version=_v(f), reason=f.reason.data), _l("The case is reopened.")),
}

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
        form.assignee.choices = options(pairs=[(user.id, f"{user.name} ({user.role.label})")
                                               for user in active_staff()])()
    return form


def _defaults(action, ticket) -> dict:
    data = {"version": ticket.version}
    if action == "listen":  # step 1 starts from what the customer wrote (portal, API)
        data["customer_words"] = ticket.description
        data["expectation"] = ticket.customer_expectation
    if action == "propose":
        data["currency"] = current_app.config["DEFAULT_CURRENCY"]
        # The service guarantee's suggestion starts the compensation lines; the agent confirms or edits.
        data["lines"] = [{"compensation": s.type.value, "amount": s.amount} for s in open_suggestions(ticket)]
    if action == "assign":
        data["assignee"] = ticket.assignee_id or current_user.id
    if action == "analyse":
        data["product"] = ticket.product
    return data
