"""Forms of the customer's record: the details staff correct, and merging two records of one person.

Shape only (required, length, one of a list, an e-mail, a phone with digits); what the rules allow
is ticketing/cases/customers.py's to say, and its refusals come back next to the field they name.
"""

import re

from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ticketing.auth.forms import LANGUAGE_CHOICES
from ticketing.cases import catalogue
from ticketing.cases.customers import EDITABLE
from ticketing.cases.services.intake import phone_digits
from ticketing.forms_common import PolicyForm, VersionField, options
from ticketing.i18n import lazy_gettext as _l

PHONE_SHAPE = re.compile(r"[0-9+\-().\s/]+")  # digits and the usual separators, as people write numbers
MIN_PHONE_DIGITS = 5


class CustomerForm(PolicyForm):
    """The details of the record, with the version the page was loaded at (optimistic locking)."""

    version = VersionField(validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    external_id = StringField(_l("External id"), validators=[Optional(), Length(max=64)])
    locale = SelectField(_l("Language"), choices=options(pairs=LANGUAGE_CHOICES))
    value_tier = SelectField(_l("Value tier"))

    def __init__(self, *args, keep_tier: str | None = None, **kwargs):
        """`keep_tier`: the record's tier, offered even when retired (the active tiers are offered to all)."""
        super().__init__(*args, **kwargs)
        self.value_tier.choices = options(pairs=lambda: catalogue.tier_choices(keep=keep_tier))()

    def validate_phone(self, field):
        value = (field.data or "").strip()
        if value and (not PHONE_SHAPE.fullmatch(value) or len(phone_digits(value) or "") < MIN_PHONE_DIGITS):
            raise ValidationError(_l("Give a phone number: digits, with spaces, + or - if you like."))

    def details(self) -> dict:
        return {name: self[name].data for name in EDITABLE}


class FindDuplicateForm(PolicyForm):
    """What identifies the other record: its number, an e-mail, a phone number or one of its cases."""

    class Meta:
        csrf = False

    q = StringField(_l("Record number, e-mail, phone or case reference"), validators=[DataRequired(), Length(max=254)])


class CustomerMergeForm(PolicyForm):
    """The confirmation: both versions as shown side by side, and why they are the same person."""

    survivor_version = VersionField(validators=[DataRequired()])
    duplicate_version = VersionField(validators=[DataRequired()])
    reason = TextAreaField(_l("Why these are the same person"), validators=[DataRequired(), Length(max=4000)])
