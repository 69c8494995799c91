"""Customer-facing forms: short, plain words, nothing a customer should not set."""

from wtforms import EmailField, MultipleFileField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from ticketing import validation
from ticketing.cases.attachments import problems
from ticketing.forms_common import PolicyForm, SurveyQuestions, VersionField, options
from ticketing.i18n import lazy_gettext as _l


def plain_name(form, field) -> None:
    if field.data and not validation.is_plain_name(field.data):
        raise ValidationError(
            _l(
                "Give your name in letters (spaces, hyphens, apostrophes and dots are fine), "
                "in at most %(n)d characters.",
                n=validation.PLAIN_NAME_LENGTH,
            )
        )


class ComplaintForm(PolicyForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), plain_name])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    product = StringField(_l("Order number or product"), validators=[Optional(), Length(max=120)])
    what_happened = TextAreaField(_l("What happened?"), validators=[DataRequired(), Length(min=10, max=4000)])
    wish = TextAreaField(_l("What would you like us to do?"), validators=[Optional(), Length(max=2000)])
    attachments = MultipleFileField(_l("Photos or PDF (optional, up to 3 files of 5 MB)"))
    # Left empty by people; bots fill every field. Hidden with CSS, labelled for screen readers.
    website = StringField(_l("Leave this field empty"), validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.email.data and not self.phone.data:
            self.email.errors = [*self.email.errors, _l("Give an email or a phone number so we can reach you.")]
            valid = False
        return _files_ok(self.attachments) and valid


class AnswerForm(PolicyForm):
    """The customer's answer to the proposed resolution."""

    version = VersionField(validators=[DataRequired()])
    answer = RadioField(
        _l("Your answer"),
        validators=[InputRequired()],
        choices=options(pairs=lambda: [("accept", _l("I accept this solution")), ("reject", _l("I do not accept it"))]),
    )
    reason = TextAreaField(_l("Tell us why (needed if you do not accept)"), validators=[Length(max=2000)])

    def validate_reason(self, field):
        if self.answer.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Please tell us why, so we can find a better solution."))


class SurveyForm(SurveyQuestions, PolicyForm):
    """After the follow-up: how did we do? (satisfaction, NPS, loyalty and perceived fairness)."""


class ReopenForm(PolicyForm):
    version = VersionField(validators=[DataRequired()])
    reason = TextAreaField(_l("What is wrong again?"), validators=[DataRequired(), Length(max=2000)])


class LostLinkForm(PolicyForm):
    reference = StringField(_l("Case reference"), validators=[DataRequired(), Length(max=20)])
    email = EmailField(_l("The email you gave us"), validators=[DataRequired(), Email(), Length(max=254)])


class MessageForm(PolicyForm):
    body = TextAreaField(_l("Your message"), validators=[DataRequired(), Length(max=4000)])
    attachments = MultipleFileField(_l("Photos or PDF (optional, up to 3 files of 5 MB)"))

    def validate(self, extra_validators=None):
        return super().validate(extra_validators) & _files_ok(self.attachments)


def _files_ok(field) -> bool:
    reasons = problems(field.data or [])
    field.errors = [*field.errors, *reasons]
    return not reasons
