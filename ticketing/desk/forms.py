"""Forms of the staff desk, one per action. Each carries the case version it was loaded at.

Forms check shape only (type, length, required); what the rules allow is the workflow's to say
(ticketing/cases/workflow.py), and its refusals come back next to the field they name.
"""

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ticketing import validation
from ticketing.cases import catalogue
from ticketing.cases.saved_views import NAME_LENGTH
from ticketing.cases.vocabulary import (
    STEP_ORDER,
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
    Step,
)
from ticketing.forms_common import PolicyForm, PolicySubForm, SurveyQuestions, VersionField, options
from ticketing.i18n import lazy_gettext as _l
from ticketing.validation import parse_id

TEXT = 4000


class CaseForm(PolicyForm):
    """Every action form: the version the user saw, for optimistic locking."""

    version = VersionField(validators=[DataRequired()])


class ListenFields:
    customer_words = TextAreaField(
        _l("The complaint, in the customer's words"), validators=[DataRequired(), Length(max=TEXT)]
    )
    restatement = TextAreaField(
        _l("Your restatement, confirmed with the customer"), validators=[DataRequired(), Length(max=TEXT)]
    )
    restatement_confirmed = BooleanField(_l("The customer confirmed the restatement"))
    expectation = TextAreaField(_l("What the customer expects"), validators=[DataRequired(), Length(max=TEXT)])
    emotion = RadioField(_l("Emotional state"), choices=options(Emotion), validators=[InputRequired()])
    dissatisfaction = RadioField(
        _l("Dissatisfaction"),
        choices=options(Dissatisfaction),
        default=Dissatisfaction.EXPLICIT.value,
        validators=[InputRequired()],
    )
    occurred_at = DateTimeLocalField(_l("When it happened"), validators=[Optional()])
    place = StringField(_l("Where it happened"), validators=[Optional(), Length(max=200)])


class ListenForm(CaseForm, ListenFields):
    pass


class IntakeForm(PolicyForm):
    """One page, one submission: the customer, the case, and step 1 when the agent has it."""

    customer_id = HiddenField()
    customer_name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=120)])
    customer_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    customer_email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    value_tier = SelectField(
        _l("Value tier"),
        choices=options(blank=_l("— as on their record (new: standard) —"), pairs=catalogue.tier_choices),
        default="",
    )
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])
    channel = SelectField(_l("Channel"), choices=options(Channel), default=Channel.PHONE.value)
    priority = SelectField(_l("Priority"), choices=options(Priority), default=Priority.NORMAL.value)
    category = SelectField(
        _l("Category"), choices=options(blank=_l("— not yet known —"), pairs=catalogue.category_choices), default=""
    )
    product = StringField(_l("Product or service"), validators=[Optional(), Length(max=120)])
    customer_words = TextAreaField(
        _l("The complaint, in the customer's words"), validators=[DataRequired(), Length(max=TEXT)]
    )
    restatement = TextAreaField(
        _l("Your restatement, confirmed with the customer"), validators=[Optional(), Length(max=TEXT)]
    )
    restatement_confirmed = BooleanField(_l("The customer confirmed the restatement"))
    expectation = TextAreaField(_l("What the customer expects"), validators=[Optional(), Length(max=TEXT)])
    emotion = RadioField(_l("Emotional state"), choices=options(Emotion), validators=[Optional()])
    dissatisfaction = RadioField(
        _l("Dissatisfaction"),
        choices=options(Dissatisfaction),
        default=Dissatisfaction.EXPLICIT.value,
        validators=[Optional()],
    )
    occurred_at = DateTimeLocalField(_l("When it happened"), validators=[Optional()])
    place = StringField(_l("Where it happened"), validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.customer_phone.data and not self.customer_email.data:
            self.customer_phone.errors = [
                *self.customer_phone.errors,
                _l("Give a phone number or an email, so we can reach the customer."),
            ]
            return False
        return valid

    def validate_restatement(self, field):
        """Step 1 is recorded at intake when the agent restated the complaint; then it must be whole."""
        if field.data and field.data.strip():
            for name in ("expectation", "emotion"):
                other = getattr(self, name)
                if not other.data:
                    other.errors = list(other.errors) + [_l("Needed to record step 1 with the restatement.")]
                    raise ValidationError(_l("Complete step 1, or leave the restatement empty to do it later."))

    def records_step_one(self) -> bool:
        return bool(self.restatement.data and self.restatement.data.strip())


class ApologyForm(CaseForm):
    method = SelectField(_l("How the apology was made"), choices=options(ContactMethod))
    wording = TextAreaField(_l("What was said"), validators=[DataRequired(), Length(max=TEXT)])


class AnalysisForm(CaseForm):
    root_cause = SelectField(_l("Root cause"), choices=options(RootCause))
    detail = TextAreaField(_l("What happened (the facts found)"), validators=[DataRequired(), Length(max=TEXT)])
    product = StringField(_l("Product or service involved"), validators=[Optional(), Length(max=120)])
    legitimacy = RadioField(
        _l("Is the complaint justified?"), choices=options(Legitimacy), validators=[InputRequired()]
    )
    responsibility = SelectField(_l("Responsibility"), choices=options(Responsibility))
    motive = RadioField(_l("What the customer is really after"), choices=options(Motive), validators=[InputRequired()])


class CompensationLineForm(PolicySubForm):
    compensation = SelectField(
        _l("Compensation"), choices=options(CompensationType, blank=_l("— none —")), validators=[Optional()], default=""
    )
    details = StringField(_l("Details"), validators=[Optional(), Length(max=200)])
    amount = DecimalField(_l("Amount"), places=2, validators=[Optional(), NumberRange(min=0, max=10_000_000)])


class ProposalForm(CaseForm):
    method = TextAreaField(_l("How we will resolve it"), validators=[DataRequired(), Length(max=TEXT)])
    promised_date = DateField(_l("Promised completion date"), validators=[DataRequired()])
    estimated_loss = DecimalField(
        _l("Customer's estimated loss"), places=2, validators=[Optional(), NumberRange(min=0, max=10_000_000)]
    )
    currency = StringField(_l("Currency"), validators=[DataRequired(), Length(min=3, max=3)])
    lines = FieldList(FormField(CompensationLineForm), min_entries=4, max_entries=10)
    justification = TextAreaField(
        _l("Why this compensation is fair (needed when it is out of proportion to the loss)"),
        validators=[Optional(), Length(max=TEXT)],
    )

    def compensation_lines(self) -> list[dict]:
        lines = [line.form for line in self.lines]
        return [
            {"type": line.compensation.data, "description": line.details.data, "amount": line.amount.data}
            for line in lines
            if line.compensation.data
        ]


class CommentForm(CaseForm):
    comments = TextAreaField(_l("Comments"), validators=[Optional(), Length(max=TEXT)])


class ReasonForm(CaseForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=TEXT)])


class CustomerAnswerForm(CaseForm):
    answer = RadioField(
        _l("The customer's answer"),
        validators=[InputRequired()],
        choices=options(pairs=lambda: [("accept", _l("Accepts the proposal")), ("reject", _l("Rejects it"))]),
    )
    reason = TextAreaField(_l("What the customer said"), validators=[Optional(), Length(max=TEXT)])


class CarryOutForm(CaseForm):
    note = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=TEXT)])


class FollowUpForm(CaseForm):
    method = SelectField(_l("How you contacted the customer"), choices=options(ContactMethod))
    outcome = RadioField(_l("Outcome"), choices=options(Outcome), validators=[InputRequired()])
    satisfaction = RadioField(
        _l("Satisfaction (1 = very unhappy, 5 = delighted)"),
        validators=[InputRequired()],
        choices=options(pairs=[(str(n), str(n)) for n in range(1, 6)]),
    )
    retention = RadioField(
        _l("Will the customer stay with us?"), choices=options(Retention), validators=[InputRequired()]
    )
    churn_type = SelectField(
        _l("If lost or at risk: kind of churn"), choices=options(ChurnType, blank=_l("— retained —")), default=""
    )
    churn_cause = SelectField(
        _l("If lost or at risk: cause"), choices=options(ChurnCause, blank=_l("— retained —")), default=""
    )
    return_to = SelectField(
        _l("If unsatisfied, send the case back to"),
        default="",
        choices=options(
            blank=_l("— satisfied —"),
            pairs=lambda: [(Step.ANALYSE.value, Step.ANALYSE.label), (Step.RESOLVE.value, Step.RESOLVE.label)],
        ),
    )
    notes = TextAreaField(_l("Notes from the call"), validators=[Optional(), Length(max=TEXT)])


class PhoneSurveyForm(CaseForm, SurveyQuestions):
    """The survey's questions, asked on the phone; staff take the customer's answers down."""


class ReviewForm(CaseForm):
    summary = TextAreaField(
        _l("Summary: when, where, the situation, how it was handled, the result"),
        validators=[DataRequired(), Length(max=TEXT)],
    )
    lesson = TextAreaField(_l("Lesson learned"), validators=[DataRequired(), Length(max=TEXT)])
    preventive_action = TextAreaField(_l("Preventive action"), validators=[Optional(), Length(max=TEXT)])


class ReturnReviewForm(CaseForm):
    return_to = SelectField(
        _l("Send back to"), choices=options(pairs=lambda: [(s.value, s.label) for s in STEP_ORDER[:-1]])
    )
    reason = TextAreaField(_l("What needs doing"), validators=[DataRequired(), Length(max=TEXT)])


class AssignForm(CaseForm):
    assignee = SelectField(_l("Assignee"), coerce=int, validate_choice=True)


class BodyForm(CaseForm):
    version = VersionField()
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=TEXT)])


class TriageForm(CaseForm):
    """What the case is about and how urgent it is, corrected: prefilled with what the case has now."""

    # the active categories, and the case's own even when retired (desk.actions.build_form)
    category = SelectField(
        _l("Category"), choices=options(blank=_l("— not yet known —"), pairs=catalogue.category_choices), default=""
    )
    priority = SelectField(_l("Priority"), choices=options(Priority))
    product = StringField(_l("Product or service"), validators=[Optional(), Length(max=120)])
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=200)])


def _optional_id(value):
    """A staff member's id from a choice list, or None for the blank choice; anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    found = validation.parse_id(value)
    if found is None:
        raise ValueError(_l("Choose from the list."))
    return found


class EscalateForm(CaseForm):
    priority = SelectField(
        _l("Raise the priority to"), choices=options(Priority, blank=_l("— keep the priority —")), default=""
    )
    assignee = SelectField(_l("Hand the case to"), coerce=_optional_id, default="")
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=TEXT)])


class MergeForm(CaseForm):
    target = StringField(_l("Reference of the case this duplicates"), validators=[DataRequired(), Length(max=20)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=TEXT)])


class QueueFilterForm(PolicyForm):
    class Meta:
        csrf = False

    view = HiddenField(default="mine")
    step = SelectField(_l("Step"), choices=options(Step, blank=_l("Any step")), validators=[Optional()])
    status = SelectField(
        _l("Status"),
        validators=[Optional()],
        default="open",
        choices=options(
            pairs=lambda: [
                ("open", _l("Open")),
                ("closed", _l("Closed")),
                ("cancelled", _l("Cancelled")),
                ("all", _l("Any status")),
            ]
        ),
    )
    priority = SelectField(_l("Priority"), choices=options(Priority, blank=_l("Any priority")), validators=[Optional()])
    category = SelectField(
        _l("Category"),
        choices=options(blank=_l("Any category"), pairs=catalogue.all_category_choices),
        validators=[Optional()],
    )
    assignee = SelectField(_l("Assignee"), validators=[Optional()])
    overdue = BooleanField(_l("Overdue only"))
    triage = BooleanField(_l("Needs triage only"))
    sort = SelectField(
        _l("Sort by"),
        validators=[Optional()],
        default="due",
        choices=options(
            pairs=lambda: [
                ("due", _l("Resolution due (soonest first)")),
                ("due_last", _l("Resolution due (latest first)")),
                ("newest", _l("Newest first")),
                ("oldest", _l("Oldest first")),
                ("priority", _l("Priority (most urgent first)")),
                ("priority_low", _l("Priority (lowest first)")),
                ("updated", _l("Recently updated")),
                ("updated_least", _l("Least recently updated")),
            ]
        ),
    )


class HandOverFields:
    """Where cases go: a colleague, or back to the team queue ('none')."""

    assignee = SelectField(_l("Reassign to"), validators=[InputRequired(_l("Choose who takes the cases."))])
    next = HiddenField()


class BulkReassignForm(HandOverFields, PolicyForm):
    # "id:version" of each case ticked on the page: a case changed since the page was shown is refused
    cases = SelectMultipleField(_l("Cases"), validate_choice=False)

    def picked(self) -> list[tuple[int, int]]:
        """The ticked cases as (id, version); a malformed entry is left out."""
        pairs = [[parse_id(part) for part in str(value).partition(":")[::2]] for value in self.cases.data or []]
        return [(ident, version) for ident, version in pairs if ident is not None and version is not None]


class HandOverForm(HandOverFields, PolicyForm):
    holder = HiddenField(validators=[DataRequired()])


class SaveViewForm(PolicyForm):
    name = StringField(
        _l("Name of this view"), validators=[DataRequired(_l("Give the view a name.")), Length(max=NAME_LENGTH)]
    )
    query = HiddenField()
