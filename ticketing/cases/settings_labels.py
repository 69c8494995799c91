"""The desk's settings named for people: a label per setting and per section (the settings page, its
history and the API read them)."""

from ticketing.i18n import lazy_gettext as _l

KEY_LABELS = {
    "deadline_hours": _l("Deadlines per priority"),
    "category_deadline_hours": _l("Deadlines per category"),
    "business_hours": _l("Working hours"),
    "holidays": _l("Holidays"),
    "workdays": _l("Make-up working days"),
    "compensation_limits": _l("Compensation limits per role"),
    "currency": _l("Currency"),
    "service_guarantee": _l("Service guarantee"),
    "follow_up_delay_hours": _l("Follow-up call after the resolution (hours)"),
    "review_delay_hours": _l("Time a summary waits for review (hours)"),
    "promise_warning_hours": _l("Warning before a promised date (hours)"),
    "at_risk_fraction": _l("At risk once this share of the time is used"),
    "reopen_days": _l("A customer may reopen a closed case for (days)"),
    "digest_hour": _l("Hour of the daily digest"),
    "auto_escalate_on_breach": _l("Escalate a case by itself when its resolution deadline is missed"),
    "reminder_retention_days": _l("Sent and cancelled reminders are kept for (days)"),
    "one_person_desk": _l("One-person desk: one person may handle and approve a case alone"),
    "proportion_factors": _l("In proportion: up to the estimated loss times this factor, by who was responsible"),
    "proportion_no_loss_amount": _l(
        "Always in proportion: up to this amount (all an offer may give with no loss entered)"
    ),
    "session_idle_minutes": _l("A login ends after this long without activity (minutes)"),
    "session_max_hours": _l("A login ends this long after it began, however active (hours)"),
}
SECTION_LABELS = {
    "deadlines": _l("Deadlines"),
    "calendar": _l("Business calendar"),
    "money": _l("Money"),
    "four_eyes": _l("Four eyes and fair offers"),
    "guarantee": _l("Service guarantee"),
    "timing": _l("Timing"),
    "sessions": _l("Logins"),
}


def key_label(key: str):
    """The setting's label (the key itself for one this version does not know)."""
    return KEY_LABELS.get(key, key)
