"""Forms of the catalogues page. Shape only (required, length, a whole number); what the catalogues
allow is ticketing/cases/catalogue_edits.py's to say, and its refusals come back next to the field."""

from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from ticketing.forms_common import PolicyForm
from ticketing.i18n import lazy_gettext as _l

NAME = 120


class NewEntryForm(PolicyForm):
    """A new category or value tier (high_value is removed for categories)."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=NAME)])
    name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=NAME)])
    high_value = BooleanField(_l("High-value customers (one reason a customer is at risk)"))


class EditEntryForm(PolicyForm):
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=NAME)])
    name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=NAME)])
    position = IntegerField(
        _l("Place in the list (smaller first)"), validators=[InputRequired(), NumberRange(min=0, max=1_000_000)]
    )
    high_value = BooleanField(_l("High-value customers (one reason a customer is at risk)"))


class ProductForm(PolicyForm):
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=NAME)])
    name_zh = StringField(_l("Chinese name"), validators=[Optional(), Length(max=NAME)])


class AliasForm(PolicyForm):
    alias = StringField(_l("Another name for this product"), validators=[DataRequired(), Length(max=NAME)])


class ActiveForm(PolicyForm):
    """Retire ("0") or bring back ("1") an entry."""

    active = HiddenField(validators=[AnyOf(["0", "1"])])


class MergeChoiceForm(PolicyForm):
    """The product this one is the same as (a GET to the confirmation page)."""

    class Meta:
        csrf = False

    into = SelectField(_l("The same product as"), validators=[DataRequired()])


class MergeForm(PolicyForm):
    """The confirmation: the product it is merged into, as the confirmation page showed it."""

    into = HiddenField(validators=[DataRequired(), Length(max=64)])
