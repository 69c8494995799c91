"""Forms of the supervisor's review pages."""

from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ticketing.cases import catalogue
from ticketing.cases.checklist import ITEMS
from ticketing.cases.vocabulary import STEP_ORDER
from ticketing.forms_common import PolicyForm, VersionField, options
from ticketing.i18n import lazy_gettext as _l


class ChecklistMixin:
    """One checkbox per audit item (see cases/checklist.py)."""

    def checklist(self) -> dict[str, bool]:
        return {key: bool(getattr(self, f"check_{key}").data) for key, _ in ITEMS}


for _key, _label in ITEMS:
    setattr(ChecklistMixin, f"check_{_key}", BooleanField(_label))


class DecisionForm(ChecklistMixin, PolicyForm):
    version = VersionField(validators=[DataRequired()])
    decision = RadioField(
        _l("Decision"),
        validators=[InputRequired()],
        choices=options(
            pairs=lambda: [("approve", _l("Approve and close the case")), ("return", _l("Return it for more work"))]
        ),
    )
    return_to = SelectField(
        _l("Send back to"),
        default="",
        choices=options(
            blank=_l("— only when returning —"), pairs=lambda: [(s.value, s.label) for s in STEP_ORDER[:-1]]
        ),
    )
    comments = TextAreaField(_l("Comments"), validators=[Length(max=4000)])  # required only to return

    def validate_return_to(self, field):
        if self.decision.data == "return" and not field.data:
            raise ValidationError(_l("Choose the step the case goes back to."))

    def validate_comments(self, field):
        if self.decision.data == "return" and not (field.data or "").strip():
            raise ValidationError(_l("Say what needs doing."))


class PreventiveActionForm(PolicyForm):
    description = TextAreaField(_l("Preventive action"), validators=[DataRequired(), Length(max=4000)])
    owner = SelectField(_l("Owner"), coerce=int)
    due_date = DateField(_l("Due date"), validators=[DataRequired()])


class DoneForm(PolicyForm):
    note = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=4000)])


class SampleForm(PolicyForm):
    since = DateField(_l("Closed from"), validators=[Optional()])
    until = DateField(_l("Closed until"), validators=[Optional()])
    agent = SelectField(_l("Agent"), default="")
    category = SelectField(
        _l("Category"), default="", choices=options(blank=_l("Any category"), pairs=catalogue.all_category_choices)
    )
    size = IntegerField(_l("Number of cases"), default=5, validators=[InputRequired(), NumberRange(min=1, max=50)])


class ScoreForm(ChecklistMixin, PolicyForm):
    comment = TextAreaField(_l("Comments"), validators=[Optional(), Length(max=4000)])
