"""One verb function per action: the only code that changes a case. Never commits."""

from ticketing.cases.services.base import Change, StaleCase
from ticketing.cases.services.escalation import escalate_case, escalate_overdue
from ticketing.cases.services.handling import (
    add_note,
    assign_case,
    cancel_case,
    customer_reopens,
    hand_over,
    merge_case,
    reopen_case,
    send_message,
)
from ticketing.cases.services.intake import find_customers, find_or_create_customer, take_complaint
from ticketing.cases.services.links import revoke_portal_links
from ticketing.cases.services.resolution import (
    approve_compensation,
    carry_out_resolution,
    current_resolution,
    propose_resolution,
    record_customer_answer,
    refuse_compensation,
)
from ticketing.cases.services.steps import (
    approve_review,
    record_analysis,
    record_apology,
    record_follow_up,
    record_listening,
    record_review,
    return_review,
)
from ticketing.cases.services.triage import triage_case

__all__ = [
    "Change",
    "StaleCase",
    "add_note",
    "assign_case",
    "cancel_case",
    "hand_over",
    "escalate_case",
    "escalate_overdue",
    "customer_reopens",
    "merge_case",
    "reopen_case",
    "revoke_portal_links",
    "send_message",
    "triage_case",
    "find_customers",
    "find_or_create_customer",
    "take_complaint",
    "approve_compensation",
    "carry_out_resolution",
    "current_resolution",
    "propose_resolution",
    "record_customer_answer",
    "refuse_compensation",
    "approve_review",
    "record_analysis",
    "record_apology",
    "record_follow_up",
    "record_listening",
    "record_review",
    "return_review",
]
