"""The workflow vocabulary and every closed list of choices, each with translatable labels.

Values are the stable names used in code, URLs, the record log and the API;
labels are what people read. Case categories, products and customer value tiers are not
closed lists: they are data the desk maintains (cases/catalogue.py).
"""

from ticketing.i18n import lazy_gettext as _l
from ticketing.labelled import LABELS, Labelled, label_for  # noqa: F401  (templates read every list from here)
from ticketing.roles import Role  # noqa: F401


class Step(Labelled):
    LISTEN = "listen"
    APOLOGISE = "apologise"
    ANALYSE = "analyse"
    RESOLVE = "resolve"
    FOLLOW_UP = "follow_up"
    REVIEW = "review"


STEP_ORDER = list(Step)


class Status(Labelled):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Channel(Labelled):
    PHONE = "phone"
    EMAIL = "email"
    WEB = "web"
    IN_PERSON = "in_person"
    SOCIAL = "social"
    WECHAT = "wechat"


class Priority(Labelled):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class Emotion(Labelled):
    CALM = "calm"
    UPSET = "upset"
    ANGRY = "angry"


class Dissatisfaction(Labelled):
    EXPLICIT = "explicit"
    IMPLICIT = "implicit"


class ContactMethod(Labelled):
    PHONE = "phone"
    IN_PERSON = "in_person"
    EMAIL = "email"
    LETTER = "letter"
    WECHAT = "wechat"
    SMS = "sms"
    VISIT = "visit"


class RootCause(Labelled):
    PRODUCT = "product"
    SERVICE = "service"
    FALSE_INFORMATION = "false_information"
    CUSTOMER_MISUSE = "customer_misuse"
    EXPECTATION_TOO_HIGH = "expectation_too_high"


class Legitimacy(Labelled):
    JUSTIFIED = "justified"
    PARTLY_JUSTIFIED = "partly_justified"
    NOT_JUSTIFIED = "not_justified"


class Responsibility(Labelled):
    COMPANY = "company"
    CUSTOMER = "customer"
    THIRD_PARTY = "third_party"
    SHARED = "shared"


class Motive(Labelled):
    RESPECT = "respect"
    COMPENSATION = "compensation"
    VENTING = "venting"
    FIX = "fix"


class CompensationKind(Labelled):
    ECONOMIC = "economic"
    EMOTIONAL = "emotional"


class CompensationType(Labelled):
    REFUND = "refund"
    REPLACEMENT = "replacement"
    REPAIR = "repair"
    VOUCHER = "voucher"
    DISCOUNT = "discount"
    APOLOGY_LETTER = "apology_letter"
    GIFT = "gift"
    PERSONAL_VISIT = "personal_visit"
    MANAGER_CALL = "manager_call"


COMPENSATION_KIND_OF = {
    CompensationType.REFUND: CompensationKind.ECONOMIC,
    CompensationType.REPLACEMENT: CompensationKind.ECONOMIC,
    CompensationType.REPAIR: CompensationKind.ECONOMIC,
    CompensationType.VOUCHER: CompensationKind.ECONOMIC,
    CompensationType.DISCOUNT: CompensationKind.ECONOMIC,
    CompensationType.APOLOGY_LETTER: CompensationKind.EMOTIONAL,
    CompensationType.GIFT: CompensationKind.EMOTIONAL,
    CompensationType.PERSONAL_VISIT: CompensationKind.EMOTIONAL,
    CompensationType.MANAGER_CALL: CompensationKind.EMOTIONAL,
}


class ResolutionState(Labelled):
    NONE = "none"
    AWAITING_APPROVAL = "awaiting_approval"
    REFUSED = "refused"
    AWAITING_CUSTOMER = "awaiting_customer"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CARRIED_OUT = "carried_out"


class Outcome(Labelled):
    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


class Retention(Labelled):
    RETAINED = "retained"
    AT_RISK = "at_risk"
    LOST = "lost"


class ChurnType(Labelled):
    """Seed 003's kinds of churn: active (natural, competitive, negligent), malicious, and passive
    (non-malicious, retaliatory after a badly handled complaint, fraudulent: no need to retain)."""

    NATURAL = "natural"
    COMPETITIVE = "competitive"
    NEGLIGENT = "negligent"
    MALICIOUS = "malicious"
    NON_MALICIOUS = "non_malicious"
    RETALIATORY = "retaliatory"
    FRAUDULENT = "fraudulent"


class ChurnCause(Labelled):
    """Seed 000's causes of churn (客户流失的原因), recorded when a customer is judged lost or at risk."""

    MANAGEMENT = "management"
    PRODUCT = "product"
    PRICE = "price"
    PROMOTION = "promotion"
    NO_INNOVATION = "no_innovation"
    COMPANY_TURMOIL = "company_turmoil"
    OVERBEARING = "overbearing"
    UNKEPT_PROMISES = "unkept_promises"
    POLITICAL = "political"
    OTHER = "other"


class ReplyKind(Labelled):
    APOLOGY = "apology"
    RESTATEMENT = "restatement"
    PROPOSAL = "proposal"
    FOLLOW_UP = "follow_up"
    MESSAGE = "message"  # a message to the customer, from the case page


class PreventiveState(Labelled):
    OPEN = "open"
    DONE = "done"
    VERIFIED = "verified"


class SuggestionState(Labelled):
    """A service-guarantee suggestion: waiting for the agent, or taken into a proposal."""

    SUGGESTED = "suggested"
    PROPOSED = "proposed"


class ReviewDecision(Labelled):
    APPROVED = "approved"
    RETURNED = "returned"


class WinBackState(Labelled):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class ReminderKind(Labelled):
    # kept in step with the case's state (cancelled when it moves on)
    RESPONSE_AT_RISK = "response_at_risk"
    RESPONSE_BREACHED = "response_breached"
    RESOLUTION_AT_RISK = "resolution_at_risk"
    RESOLUTION_BREACHED = "resolution_breached"
    PROMISE_APPROACHING = "promise_approaching"
    PROMISE_PASSED = "promise_passed"
    FOLLOW_UP_DUE = "follow_up_due"
    REVIEW_WAITING = "review_waiting"
    # one-off notices
    SATISFACTION_SURVEY = "satisfaction_survey"
    SURVEY_REMINDER = "survey_reminder"
    DAILY_DIGEST = "daily_digest"
    REVIEW_RETURNED = "review_returned"
    PREVENTIVE_ACTION_DUE = "preventive_action_due"
    CUSTOMER_MESSAGE = "customer_message"
    PORTAL_LINK = "portal_link"
    EARLY_WARNING = "early_warning"
    WIN_BACK_DUE = "win_back_due"
    # hand-offs: told at once to whoever the case now waits for
    ASSIGNED = "assigned"
    APPROVAL_WAITING = "approval_waiting"
    APPROVAL_GRANTED = "approval_granted"
    APPROVAL_REFUSED = "approval_refused"
    CUSTOMER_ACCEPTED = "customer_accepted"
    CUSTOMER_REJECTED = "customer_rejected"
    CUSTOMER_REOPENED = "customer_reopened"
    ESCALATED = "escalated"
    # the customer's milestones: told by e-mail, each in one conversation per case
    PROPOSAL_WAITING = "proposal_waiting"
    STAFF_MESSAGE = "staff_message"
    REMEDY_DONE = "remedy_done"
    FOLLOW_UP_COMING = "follow_up_coming"
    CASE_CLOSED = "case_closed"
    CASE_REOPENED = "case_reopened"


STATE_KINDS = frozenset(
    {
        ReminderKind.RESPONSE_AT_RISK,
        ReminderKind.RESPONSE_BREACHED,
        ReminderKind.RESOLUTION_AT_RISK,
        ReminderKind.RESOLUTION_BREACHED,
        ReminderKind.PROMISE_APPROACHING,
        ReminderKind.PROMISE_PASSED,
        ReminderKind.FOLLOW_UP_DUE,
        ReminderKind.REVIEW_WAITING,
        ReminderKind.FOLLOW_UP_COMING,
    }
)

# What the customer receives (audience "customer"): never configurable by staff preferences.
CUSTOMER_KINDS = frozenset(
    {
        ReminderKind.PORTAL_LINK,
        ReminderKind.SATISFACTION_SURVEY,
        ReminderKind.SURVEY_REMINDER,
        ReminderKind.PROPOSAL_WAITING,
        ReminderKind.STAFF_MESSAGE,
        ReminderKind.REMEDY_DONE,
        ReminderKind.FOLLOW_UP_COMING,
        ReminderKind.CASE_CLOSED,
        ReminderKind.CASE_REOPENED,
    }
)


class ReminderStatus(Labelled):
    """pending -> sending (claimed) -> sent | skipped | failed after the last attempt;
    cancelled when the case moved on."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


LABELS.update(
    {
        Step: {
            "listen": _l("Accept and listen"),
            "apologise": _l("Empathise and apologise"),
            "analyse": _l("Analyse the cause"),
            "resolve": _l("Propose a resolution"),
            "follow_up": _l("Follow up"),
            "review": _l("Record and review"),
        },
        Status: {"open": _l("Open"), "closed": _l("Closed"), "cancelled": _l("Cancelled")},
        Channel: {
            "phone": _l("Phone"),
            "email": _l("Email"),
            "web": _l("Web form"),
            "in_person": _l("In person"),
            "social": _l("Social media"),
            "wechat": _l("WeChat"),
        },
        Priority: {"urgent": _l("Urgent"), "high": _l("High"), "normal": _l("Normal"), "low": _l("Low")},
        Emotion: {"calm": _l("Calm"), "upset": _l("Upset"), "angry": _l("Angry")},
        Dissatisfaction: {
            "explicit": _l("Explicit (stated by the customer)"),
            "implicit": _l("Implicit (picked up by the agent)"),
        },
        ContactMethod: {
            "phone": _l("Phone"),
            "in_person": _l("In person"),
            "email": _l("Email"),
            "letter": _l("Letter"),
            "wechat": _l("WeChat"),
            "sms": _l("Text message"),
            "visit": _l("Visit"),
        },
        RootCause: {
            "product": _l("Product not satisfactory"),
            "service": _l("Service attitude or manner"),
            "false_information": _l("False information or unkept promise"),
            "customer_misuse": _l("Customer's own misuse or misunderstanding"),
            "expectation_too_high": _l("Expectations too high"),
        },
        Legitimacy: {
            "justified": _l("Justified"),
            "partly_justified": _l("Partly justified"),
            "not_justified": _l("Not justified"),
        },
        Responsibility: {
            "company": _l("Company"),
            "customer": _l("Customer"),
            "third_party": _l("Third party"),
            "shared": _l("Shared"),
        },
        Motive: {
            "respect": _l("Wants respect"),
            "compensation": _l("Wants compensation"),
            "venting": _l("Wants to vent"),
            "fix": _l("Wants a fix"),
        },
        CompensationKind: {"economic": _l("Economic"), "emotional": _l("Emotional")},
        CompensationType: {
            "refund": _l("Refund"),
            "replacement": _l("Replacement"),
            "repair": _l("Repair"),
            "voucher": _l("Voucher"),
            "discount": _l("Discount"),
            "apology_letter": _l("Apology letter"),
            "gift": _l("Small gift"),
            "personal_visit": _l("Personal visit"),
            "manager_call": _l("Call from a manager"),
        },
        ResolutionState: {
            "none": _l("No proposal yet"),
            "awaiting_approval": _l("Compensation awaiting supervisor approval"),
            "refused": _l("Compensation refused by supervisor"),
            "awaiting_customer": _l("Waiting for the customer's answer"),
            "accepted": _l("Accepted by the customer"),
            "rejected": _l("Rejected by the customer"),
            "carried_out": _l("Carried out"),
        },
        Outcome: {
            "satisfied": _l("Problem solved, customer satisfied"),
            "unsatisfied": _l("Customer still unsatisfied"),
        },
        Retention: {"retained": _l("Retained"), "at_risk": _l("At risk"), "lost": _l("Lost")},
        ChurnType: {
            "natural": _l("Natural (moved away, no longer needs us)"),
            "competitive": _l("Competitive (won by a competitor)"),
            "negligent": _l("Negligent (our own failure)"),
            "malicious": _l("Malicious"),
            "non_malicious": _l("Passive, not malicious (e.g. never told of a renewal or a new service)"),
            "retaliatory": _l("Passive, retaliatory (after a badly handled complaint)"),
            "fraudulent": _l("Passive, fraudulent (low credit or deliberate fraud: no need to retain)"),
        },
        ChurnCause: {
            "management": _l("Management (staff left and took the customer, details neglected, poor service)"),
            "product": _l("Product (a better product elsewhere, unstable quality)"),
            "price": _l("Price"),
            "promotion": _l("Promotion"),
            "no_innovation": _l("No innovation (nothing new of value to offer)"),
            "company_turmoil": _l("Company turmoil (management upheaval, cash problems, disaster)"),
            "overbearing": _l("Big company bullying a small customer (harsh terms)"),
            "unkept_promises": _l("Unkept promises (rebates, rewards not paid)"),
            "political": _l("Political (the company's stance or social responsibility)"),
            "other": _l("Other (their buyer left, moved, changed business, went bankrupt)"),
        },
        ReplyKind: {
            "apology": _l("Apology"),
            "restatement": _l("Restatement"),
            "proposal": _l("Proposal wording"),
            "follow_up": _l("Follow-up call"),
            "message": _l("Message to the customer"),
        },
        PreventiveState: {"open": _l("Open"), "done": _l("Done"), "verified": _l("Verified")},
        SuggestionState: {"suggested": _l("Suggested"), "proposed": _l("Proposed")},
        ReviewDecision: {"approved": _l("approved"), "returned": _l("returned")},  # read inside a log line
        WinBackState: {"open": _l("Open"), "done": _l("Done"), "cancelled": _l("Cancelled")},
        ReminderKind: {
            "follow_up_due": _l("Follow-up due"),
            "promise_approaching": _l("Promise due soon"),
            "promise_passed": _l("Promise date passed"),
            "response_at_risk": _l("First response at risk"),
            "response_breached": _l("First response missed"),
            "resolution_at_risk": _l("Resolution at risk"),
            "resolution_breached": _l("Resolution missed"),
            "review_waiting": _l("Review waiting"),
            "daily_digest": _l("Daily digest"),
            "satisfaction_survey": _l("Satisfaction survey"),
            "survey_reminder": _l("Reminder to answer the survey"),
            "review_returned": _l("Review returned"),
            "preventive_action_due": _l("Preventive action due"),
            "customer_message": _l("Message from the customer"),
            "portal_link": _l("Private link to the customer"),
            "early_warning": _l("Early warning"),
            "win_back_due": _l("Win-back action due"),
            "assigned": _l("Case assigned to you"),
            "approval_waiting": _l("Compensation waiting for approval"),
            "approval_granted": _l("Compensation approved"),
            "approval_refused": _l("Compensation refused"),
            "customer_accepted": _l("Customer accepted the proposal"),
            "customer_rejected": _l("Customer rejected the proposal"),
            "customer_reopened": _l("Customer reopened the case"),
            "escalated": _l("Case escalated"),
            "proposal_waiting": _l("Proposal sent to the customer"),
            "staff_message": _l("Our message to the customer"),
            "remedy_done": _l("Remedy carried out, customer told"),
            "follow_up_coming": _l("Follow-up call announced to the customer"),
            "case_closed": _l("Case closed, customer told"),
            "case_reopened": _l("Case reopened, customer told"),
        },
        ReminderStatus: {
            "pending": _l("pending"),
            "sending": _l("being sent"),
            "sent": _l("sent"),
            "skipped": _l("skipped"),
            "failed": _l("failed"),
            "cancelled": _l("cancelled"),
        },
    }
)
