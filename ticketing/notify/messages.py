"""What each kind of reminder says, in the reader's language."""

from datetime import date, datetime

from babel.lists import format_list
from flask import current_app
from flask_babel import force_locale, format_currency, format_decimal, format_percent, get_locale

from ticketing.cases import catalogue
from ticketing.cases.vocabulary import (
    LABELS,
    CompensationType,
    Priority,
    ReminderKind,
    ReminderStatus,
    Step,
    label_for,
)
from ticketing.i18n import day, when, when_in
from ticketing.i18n import gettext as _

KIND_LABELS = LABELS[ReminderKind]
STATUS_LABELS = LABELS[ReminderStatus]


def _titles(details: dict) -> dict:
    ref = details.get("reference", "")
    return {
        "follow_up_due": _("Follow-up call due: %(ref)s", ref=ref),
        "promise_approaching": _("A promise to the customer is due soon: %(ref)s", ref=ref),
        "promise_passed": _("The date promised to the customer has passed: %(ref)s", ref=ref),
        "response_at_risk": _("First response due soon: %(ref)s", ref=ref),
        "response_breached": _("First-response deadline missed: %(ref)s", ref=ref),
        "resolution_at_risk": _("Resolution due soon: %(ref)s", ref=ref),
        "resolution_breached": _("Resolution deadline missed: %(ref)s", ref=ref),
        "review_waiting": _("A case has waited too long for review: %(ref)s", ref=ref),
        "daily_digest": _("Your cases today"),
        "satisfaction_survey": _("How did we do? Your case %(ref)s", ref=ref),
        "survey_reminder": _("A reminder: how did we do on your case %(ref)s?", ref=ref),
        "review_returned": _("A supervisor returned your case for more work: %(ref)s", ref=ref),
        "preventive_action_due": _("A preventive action you own is due: %(ref)s", ref=ref),
        "customer_message": _("The customer wrote on case %(ref)s", ref=ref),
        "portal_link": _("Your case %(ref)s: your private link", ref=ref),
        "early_warning": _("Early warning: complaints about %(what)s are rising", what=_warning_subject(details)),
        "win_back_due": _("A win-back action you own is due: %(customer)s", customer=details.get("customer", "")),
        "assigned": _("Case %(ref)s is now yours", ref=ref),
        "approval_waiting": _("Compensation on %(ref)s waits for your approval", ref=ref),
        "approval_granted": _("Compensation approved on %(ref)s: it goes to the customer", ref=ref),
        "approval_refused": _("Compensation refused on %(ref)s: propose again", ref=ref),
        "customer_accepted": _("The customer accepted the proposal on %(ref)s", ref=ref),
        "customer_rejected": _("The customer rejected the proposal on %(ref)s", ref=ref),
        "customer_reopened": _("The customer reopened case %(ref)s", ref=ref),
        "escalated": _("Case %(ref)s is escalated", ref=ref),
        "proposal_waiting": _("Your case %(ref)s: our proposal waits for your answer", ref=ref),
        "staff_message": _("Your case %(ref)s: a message from us", ref=ref),
        "remedy_done": _("Your case %(ref)s: we have put things right", ref=ref),
        "follow_up_coming": _("Your case %(ref)s: we will call you soon", ref=ref),
        "case_closed": _("Your case %(ref)s is closed", ref=ref),
        "case_reopened": _("Your case %(ref)s is open again", ref=ref),
    }


def _warning_subject(details: dict) -> str:
    value = details.get("value", "")
    label = catalogue.category_label if details.get("warning_kind") == "category" else catalogue.product_label
    return label(value)


def title(kind: str, details: dict) -> str:
    return _titles(details).get(kind, kind)


def _moment(value: str | None) -> str:
    """A moment as a customer reads it, in the desk's format and the desk's zone."""
    if not value:
        return ""
    return when_in(datetime.fromisoformat(value), current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _offer(lines: list[dict]) -> str:
    """What is offered, as a list in the reader's language: "a refund of ¥50.00 and an apology letter"."""
    items = [
        _(
            "%(what)s of %(amount)s",
            what=label_for(CompensationType, line["type"]),
            amount=format_currency(line["amount"], line["currency"]),
        )
        if line.get("amount")
        else str(label_for(CompensationType, line["type"]))
        for line in lines
    ]
    return format_list(items, locale=get_locale()) if items else _("no compensation")


def _to_customer(details: dict, *paragraphs: str) -> str:
    """A customer's notice: the greeting, what happened, the private link, and the same closing."""
    return "\n\n".join(
        [
            _("Dear %(name)s,", name=details.get("customer", "")),
            *[paragraph for paragraph in paragraphs if paragraph],
            _("Your case, our messages and your answers:\n%(link)s", link=details.get("link", "")),
            _("This link is private: please do not share it."),
        ]
    )


def customer_body(kind: str, details: dict) -> str | None:
    """The body of a customer's milestone notice, or None for another kind."""
    ref = details.get("reference", "")
    if kind == "proposal_waiting":
        return _to_customer(
            details,
            _("We have a proposal to put things right on your case %(ref)s.", ref=ref),
            _("What we will do: %(method)s", method=details.get("method", ""))
            + "\n"
            + _(
                "Done by: %(date)s",
                date=day(date.fromisoformat(details["promised_date"])) if details.get("promised_date") else "",
            )
            + "\n"
            + _("What we offer you: %(offer)s", offer=_offer(details.get("offer") or [])),
            _("Please tell us whether you accept it, or why not, at the link below."),
        )
    if kind == "staff_message":
        return _to_customer(
            details,
            _("We wrote to you about your case %(ref)s:", ref=ref),
            details.get("message", ""),
            _("Reply to this e-mail, or at the link below.")
            if current_app.config.get("MAIL_REPLY_TO")  # the reply lands on the case (notify/intake.py)
            else _("You can reply at the link below."),
        )
    if kind == "remedy_done":
        return _to_customer(
            details,
            _("We have carried out what we promised on your case %(ref)s.", ref=ref),
            _(
                "We will call you around %(when)s to make sure the problem is really solved.",
                when=_moment(details.get("call_by")),
            )
            if details.get("call_by")
            else "",
        )
    if kind == "follow_up_coming":
        return _to_customer(
            details,
            _(
                "We will call you around %(when)s to make sure the problem on your case %(ref)s is really solved.",
                when=_moment(details.get("call_by")),
                ref=ref,
            ),
            _("If another time suits you better, write to us at the link below."),
        )
    if kind == "case_closed":
        return _to_customer(
            details,
            _("Thank you for letting us put things right. Your case %(ref)s is now closed.", ref=ref),
            _(
                "If the problem comes back, you can reopen the case until %(when)s.",
                when=_moment(details.get("reopen_until")),
            )
            if details.get("reopen_until")
            else "",
        )
    if kind == "case_reopened":
        return _to_customer(
            details,
            _("Your case %(ref)s is open again, and we are looking into it.", ref=ref),
            _("We aim to propose a solution by %(when)s.", when=_moment(details.get("propose_by"))),
        )
    return None


def _what_happens_next(details: dict) -> str:
    """The case-received message's promise: when we will be in touch, and propose a solution."""
    lines = []
    if details.get("respond_by"):
        lines.append(_("We will get back to you by %(when)s.", when=_moment(details["respond_by"])))
    if details.get("propose_by"):
        lines.append(_("We aim to propose a solution by %(when)s.", when=_moment(details["propose_by"])))
    return "\n".join(lines)


def body(kind: str, details: dict) -> str:
    """The text of a reminder (the e-mail body; the notification's second line)."""
    text = customer_body(kind, details)
    if text is not None:
        return text
    if kind == "daily_digest":
        return _(
            "Open cases: %(open)d. Overdue: %(overdue)d. Follow-ups due today: %(follow_ups)d. "
            "Compensation waiting for your approval: %(approvals)d.",
            open=details.get("open", 0),
            overdue=details.get("overdue", 0),
            follow_ups=details.get("follow_ups", 0),
            approvals=details.get("approvals", 0),
        )
    if kind == "satisfaction_survey" and details.get("link"):
        return _to_customer(
            details,
            _(
                "We have called you about your case %(ref)s. Whatever you told us then, we would like to know "
                "how you feel about the way we handled it and about the outcome: six short questions, about a "
                "minute, at the link below.",
                ref=details.get("reference", ""),
            ),
        )
    if kind == "portal_link":
        return _to_customer(
            details,
            _(
                "Your case %(ref)s is with us. You can see where it stands, answer our proposal and write "
                "to us at any time at the link below.",
                ref=details.get("reference", ""),
            ),
            _what_happens_next(details),
        )
    if kind == "survey_reminder":
        name = details.get("customer")
        return _(
            "%(greeting)s\n\nA few days ago we asked how you feel about the way we handled your case %(ref)s. "
            "If you have a moment, please answer a few short questions here:\n%(link)s"
            "\n\nThis link is private: please do not share it. This is the only reminder we send.\n\nThank you.",
            greeting=_("Dear %(name)s,", name=name) if name else _("Hello,"),
            ref=details.get("reference", ""),
            link=details.get("link", ""),
        )
    if kind == "early_warning":
        return _(
            "%(count)d complaints so far in the week of %(week)s, against an average of %(baseline)s a "
            "week over the previous %(weeks)d weeks; the chance of so many is %(chance)s. "
            "See Insight, early warnings.",
            count=details.get("count", 0),
            weeks=details.get("weeks", 8),
            week=day(date.fromisoformat(details["week"])) if details.get("week") else "",
            baseline=format_decimal(details.get("baseline", 0)),
            chance=format_percent(details.get("p_value", 0), "#,##0.###%"),
        )
    if kind == "satisfaction_survey":
        return _(
            "Dear %(name)s,\n\nThank you for letting us put things right on case %(ref)s. "
            "We would like to know how you feel about the outcome: please reply to this e-mail "
            "and rate it from 1 (very unhappy) to 5 (delighted), and tell us anything we could do better."
            "\n\nThank you.",
            name=details.get("customer", ""),
            ref=details.get("reference", ""),
        )
    due = details.get("due_at")
    lines = [details.get("subject", "")]
    if kind == "escalated":
        lines += _escalation(details)
    if kind == "review_returned" and details.get("returned_by"):  # who sent it back, to which step
        lines.append(
            _(
                "Returned by %(name)s to “%(step)s”.",
                name=details["returned_by"],
                step=label_for(Step, details.get("return_to", "")),
            )
        )
    if details.get("reason"):
        lines.append(_("Reason: %(reason)s", reason=details["reason"]))
    if due:
        lines.append(_("Due: %(when)s", when=when(datetime.fromisoformat(due))))
    if details.get("promised_date"):
        lines.append(_("Promised for: %(date)s", date=day(date.fromisoformat(details["promised_date"]))))
    return "\n".join(line for line in lines if line)


def _escalation(details: dict) -> list[str]:
    """Who escalated the case (or that it escalated itself) and to which priority; the reason follows."""
    if details.get("automatic"):
        lines = [_("Escalated automatically: the resolution deadline was missed.")]
    else:
        lines = [_("Escalated by %(name)s.", name=details.get("by") or "")]
    if details.get("priority"):
        lines.append(_("Priority now: %(priority)s", priority=label_for(Priority, details["priority"])))
    return lines


def render(kind: str, details: dict, locale: str) -> tuple[str, str]:
    """(subject, body) in `locale`."""
    with force_locale(locale if locale in current_app.config["LANGUAGES"] else "en"):
        return title(kind, details), body(kind, details)
