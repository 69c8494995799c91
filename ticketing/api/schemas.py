"""What the API accepts: one pydantic model per request body, mirroring the desk's forms.

The models are also the OpenAPI document's request schemas, so the description and the
validation cannot drift apart. Unknown fields are refused (a misspelt field is a bug in
the caller, better reported than ignored).
"""

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ticketing import validation
from ticketing.cases import catalogue
from ticketing.cases.vocabulary import (
    Channel,
    ChurnCause,
    ChurnType,
    CompensationType,
    ContactMethod,
    Dissatisfaction,
    Emotion,
    Legitimacy,
    Motive,
    Outcome,
    Priority,
    Responsibility,
    Retention,
    RootCause,
    Status,
    Step,
)

TEXT = 4000
MAX_ID = validation.MAX_INT  # ids and versions are 32-bit integers in the database


def _storable(value: str) -> str:
    """Text both databases can store (the policy of ticketing/validation.py; line breaks and tabs allowed)."""
    if validation.has_unstorable_characters(value, multiline=True):
        raise ValueError(
            "must not contain the NUL character or other control characters, and must be valid Unicode text"
        )
    return value


_C = validation.CONTROL_CHARACTERS
NO_NUL = rf"^[^{_C}]*$"  # no NUL, nor any other control character but tab, CR and LF
NOT_BLANK = rf"^[^{_C}]*[^{_C}\s][^{_C}]*$"  # documents what the trimming and the control-character check enforce
ONE_LINE = rf"^[^{_C}\r\n]*$"
ONE_LINE_NOT_BLANK = rf"^[^{_C}\r\n]*[^{_C}\s][^{_C}\r\n]*$"


def _text(max_length: int, min_length: int = 1, *, one_line: bool = False):
    """Text, trimmed; required text must not be blank. A one-line text (a name, a subject: they
    end up in e-mail headers and page titles) refuses line breaks too, as the desk's forms do."""
    if one_line:
        pattern = ONE_LINE_NOT_BLANK if min_length else ONE_LINE
    else:
        pattern = NOT_BLANK if min_length else NO_NUL
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length, pattern=pattern),
        AfterValidator(_storable_line if one_line else _storable),
    ]


def _storable_line(value: str) -> str:
    if validation.has_unstorable_characters(value, multiline=False):
        raise ValueError("must be one line, without line breaks or other control characters")
    return value


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value):
    """Only an RFC 3339 date-time with its offset, as documented (not a number, not a bare date)."""
    if isinstance(value, str) and RFC3339.match(value):
        return value
    raise ValueError("must be a date-time with its offset, e.g. 2026-11-24T09:30:00+08:00")


def _utc(value: datetime) -> datetime:
    """Every time is stored in UTC."""
    try:
        value = value.astimezone(timezone.utc)
        value + timedelta(days=1), value - timedelta(days=1)  # room for the deadline arithmetic
    except OverflowError:
        raise ValueError("is out of range") from None
    return value


Required = _text(TEXT)
Optional = _text(TEXT, min_length=0)
UtcDateTime = Annotated[datetime, BeforeValidator(_rfc3339), AfterValidator(_utc)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _category_of(active_only: bool):
    """A code of the category catalogue (GET /api/v1/catalogues), checked against it: for a new case
    an active category, for a filter any (a retired category stays on old cases)."""

    def check(value: str) -> str:
        if not catalogue.category_exists(value, active_only=active_only):
            codes = ", ".join(code for code, _name in catalogue.category_choices(include_retired=not active_only))
            raise PydanticCustomError("enum", "must be one of the catalogue's categories: {codes}", {"codes": codes})
        return value

    return Annotated[
        str,
        StringConstraints(max_length=32),
        AfterValidator(check),
        Field(description="A category's code, as GET /api/v1/catalogues lists them."),
    ]


CategoryCode = _category_of(active_only=True)


def _active_tier(value: str) -> str:
    """A code of the value-tier catalogue's active tiers (GET /api/v1/catalogues)."""
    codes = [code for code, _name in catalogue.tier_choices()]
    if value not in codes:
        raise PydanticCustomError(
            "enum", "must be one of the catalogue's value tiers: {codes}", {"codes": ", ".join(codes)}
        )
    return value


TierCode = Annotated[str, StringConstraints(max_length=32), AfterValidator(_active_tier)]
AnyCategoryCode = _category_of(active_only=False)
# Bodies take JSON integers only (not "2", not true); query parameters arrive as text.
Version = Annotated[
    int, Strict(), Field(ge=1, le=MAX_ID, description="The case `version` you read; a newer one answers 409.")
]
BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Money = Annotated[Decimal, Field(ge=0, le=10_000_000, max_digits=10, decimal_places=2)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(Body):
    name: _text(120, one_line=True)
    email: EmailStr | None = Field(None, max_length=254)
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()\-.]{2,38}$")] | None = (
        Field(None, description="Digits with optional +, spaces, dashes, dots or brackets.")
    )
    locale: Literal["en", "zh_CN"] | None = Field(None, description="The customer's language for e-mails.")
    value_tier: TierCode | None = Field(
        None,
        description="An active value tier's code (GET /api/v1/catalogues). A new customer takes it; an existing "
        "one's tier is changed to it, on the record's history. Leave it out to keep the record's tier.",
    )

    @model_validator(mode="after")
    def reachable(self):
        if not self.email and not self.phone:
            raise ValueError("give an email or a phone number, so the customer can be reached")
        return self


class TicketIn(Body):
    """A complaint from another system (call centre, shop, chat bot)."""

    customer: CustomerIn
    subject: _text(200, one_line=True)
    description: Required = Field(description="The complaint, in the customer's words.")
    channel: Channel
    category: CategoryCode | None = Field(None, description="An active category's code (GET /api/v1/catalogues).")
    product: _text(120, min_length=0, one_line=True) | None = Field(
        None, description="As the customer names it; linked to the catalogue's product it names, or a new one."
    )
    priority: Priority = Priority.NORMAL
    expectation: Optional | None = Field(None, description="What the customer would like, in their words.")


class ActionIn(Body):
    version: Version


class ListenIn(ActionIn):
    customer_words: Required
    restatement: Required
    restatement_confirmed: Annotated[bool, Strict()] = False
    expectation: Required
    emotion: Emotion
    dissatisfaction: Dissatisfaction = Dissatisfaction.EXPLICIT
    occurred_at: UtcDateTime | None = None
    place: _text(200, min_length=0) | None = None


class ApologiseIn(ActionIn):
    method: ContactMethod
    wording: Required


class AnalyseIn(ActionIn):
    root_cause: RootCause
    detail: Required
    legitimacy: Legitimacy
    responsibility: Responsibility
    motive: Motive
    product: _text(120, min_length=0, one_line=True) | None = None


class CompensationIn(Body):
    type: CompensationType
    description: _text(200, min_length=0) | None = None
    amount: Money | None = None


class ProposeIn(ActionIn):
    method: Required = Field(description="How we will resolve it.")
    promised_date: date = Field(description="Within the next two years, not in the past.")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = Field(
        None, description="ISO 4217 code; the desk's default currency when left out."
    )
    estimated_loss: Money | None = None
    compensation: list[CompensationIn] = Field(default_factory=list, max_length=10)
    justification: Optional = Field(
        "", description="Why the compensation is fair; required when it is out of proportion to the loss."
    )


class CommentsIn(ActionIn):
    comments: Optional = ""


class ReasonIn(ActionIn):
    reason: Required


class CustomerAcceptsIn(ActionIn):
    reason: Optional = Field("", description="What the customer said.")


class CarryOutIn(ActionIn):
    note: Optional = Field("", description="What was done.")


class FollowUpIn(ActionIn):
    method: ContactMethod
    outcome: Outcome
    satisfaction: Annotated[int, Strict()] = Field(ge=1, le=5, description="1 = very unhappy, 5 = delighted.")
    retention: Retention
    churn_type: ChurnType | None = Field(
        None, description="Required when retention is `lost` or `at_risk`; refused when `retained`."
    )
    churn_cause: ChurnCause | None = Field(
        None, description="Required when retention is `lost` or `at_risk`; refused when `retained`."
    )
    return_to: Literal["analyse", "resolve"] | None = Field(None, description="Required when unsatisfied.")
    notes: Optional = ""


class RecordReviewIn(ActionIn):
    summary: Required
    lesson: Required
    preventive_action: Optional = ""


class ReturnReviewIn(ActionIn):
    return_to: Literal["listen", "apologise", "analyse", "resolve", "follow_up"]
    reason: Required


class AssignIn(ActionIn):
    assignee_id: BodyId


class BodyIn(Body):
    version: Version | None = Field(None, description="Optional: notes and messages do not conflict.")
    body: Required


class TriageIn(ActionIn):
    """Only the fields given change; `null` clears a category or a product."""

    category: AnyCategoryCode | None = Field(None, description="A category's code; `null` for not categorised.")
    priority: Priority | None = None
    product: _text(120, min_length=0, one_line=True) | None = Field(None, description="`null` or empty for none.")
    subject: _text(200, one_line=True) | None = None


class EscalateIn(ActionIn):
    """A higher priority, a new holder, or both; the holder (or the supervisors) are told at once."""

    reason: Required
    priority: Priority | None = Field(None, description="Above the case's priority now.")
    assignee_id: BodyId | None = Field(None, description="The supervisor or colleague who takes the case.")


class MergeIn(ActionIn):
    target: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] = Field(
        description="Reference of the case this one duplicates."
    )
    reason: Required


SEARCH = (
    "Search: a reference or part of one (`000011`, `2026-11`), a phone in any format, a name or part of "
    "one, an e-mail, a product, or words of the subject, description, messages and internal notes "
    "(Chinese substrings too). Every word must appear. With `q` the cases come ranked — the exact "
    "reference, then the cases of the customer with that exact phone or e-mail, then open cases, newest "
    "first, then the rest — instead of oldest first."
)


class TicketFilters(BaseModel):
    """Query parameters of the case list."""

    model_config = ConfigDict(extra="ignore")

    step: Step | None = None
    status: Status | None = None
    priority: Priority | None = None
    category: AnyCategoryCode | None = None
    assignee_id: Id | None = None
    created_since: UtcDateTime | None = None
    updated_since: UtcDateTime | None = None
    q: _text(200) | None = Field(None, description=SEARCH)
    limit: int = Field(50, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class CustomerFilters(BaseModel):
    """Query parameters of the customer search."""

    model_config = ConfigDict(extra="ignore")

    q: _text(200) = Field(description="Name (or part of one), e-mail, phone in any format, or external id.")
    limit: int = Field(25, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None
