"""Customer-facing forms: short, plain words, nothing a customer should not set."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional


class ComplaintForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    product = StringField(_l("Order number or product"), validators=[Optional(), Length(max=120)])
    what_happened = TextAreaField(_l("What happened?"), validators=[DataRequired(), Length(min=10, max=4000)])
    wish = TextAreaField(_l("What would you like us to do?"), validators=[Optional(), Length(max=2000)])
    # Left empty by people; bots fill every field. Hidden with CSS, labelled for screen readers.
    website = StringField(_l("Leave this field empty"), validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.email.data and not self.phone.data:
            self.email.errors = [*self.email.errors, _l("Give an email or a phone number so we can reach you.")]
            return False
        return valid


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[DataRequired(), Length(max=4000)])
