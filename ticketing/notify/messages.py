"""What each kind of reminder says, in the reader's language."""

from datetime import date, datetime

from flask import current_app
from flask_babel import force_locale, format_datetime, format_decimal, format_percent
from flask_babel import gettext as _

from ticketing.cases.vocabulary import LABELS, Category, ReminderKind, ReminderStatus, label_for
from ticketing.i18n import day

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
    }


def _warning_subject(details: dict) -> str:
    value = details.get("value", "")
    return str(label_for(Category, value)) if details.get("warning_kind") == "category" else value


def title(kind: str, details: dict) -> str:
    return _titles(details).get(kind, kind)


def body(kind: str, details: dict) -> str:
    """The text of a reminder (the e-mail body; the notification's second line)."""
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
        return _(
            "Dear %(name)s,\n\nThank you for letting us put things right on case %(ref)s. "
            "How do you feel about the outcome? Please answer four short questions here:\n%(link)s"
            "\n\nThis link is private: please do not share it.\n\nThank you.",
            name=details.get("customer", ""),
            ref=details.get("reference", ""),
            link=details["link"],
        )
    if kind == "portal_link":
        return _(
            "Dear %(name)s,\n\nYour case %(ref)s is with us. You can see where it stands, answer our "
            "proposal and write to us at any time here:\n%(link)s\n\n"
            "This link is private: please do not share it.",
            name=details.get("customer", ""),
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
    if due:
        lines.append(_("Due: %(when)s", when=format_datetime(datetime.fromisoformat(due), "medium")))
    if details.get("promised_date"):
        lines.append(_("Promised for: %(date)s", date=day(date.fromisoformat(details["promised_date"]))))
    return "\n".join(line for line in lines if line)


def render(kind: str, details: dict, locale: str) -> tuple[str, str]:
    """(subject, body) in `locale`."""
    with force_locale(locale if locale in current_app.config["LANGUAGES"] else "en"):
        return title(kind, details), body(kind, details)
