"""What every form shares: choice lists (WTForms SelectChoice; tuples are deprecated in 3.3), the
validation policy of ticketing/validation.py applied to every field, a quicker rendering of plain
select lists, and text from the query string."""

import copy
import math
import weakref
from datetime import date
from decimal import Decimal

from flask import abort, request
from flask_babel import lazy_ngettext as ngettext  # lazy, named so that extraction finds the plurals
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from markupsafe import Markup, escape
from wtforms import Form as PlainForm
from wtforms.fields import (
    DateTimeField,
    DecimalField,
    FieldList,
    FloatField,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, StopValidation, ValidationError
from wtforms.widgets import Input, Select
from wtforms.widgets.core import clean_key

from ticketing import validation
from ticketing.i18n import lazy_gettext as _l
from ticketing.i18n import translations

UNSTORABLE = _l("This field contains characters that cannot be saved.")
ONE_LINE = _l("This field must fit on one line.")
NUMBER_RANGE = _l("This number is out of range.")
AMOUNT_RANGE = _l("Give an ordinary amount smaller than 10,000,000,000.")
DATE_RANGE = _l("Give a date between %(first)s and %(last)s.", first=validation.MIN_YEAR, last=validation.MAX_YEAR)
VERSION = _l("This page is out of date or was altered: reload the case before saving.")


def options(enum_cls=None, blank=None, pairs=None):
    """A callable giving the choices, so labels are translated per request."""

    def build():
        items = [SelectChoice("", blank)] if blank is not None else []
        source = pairs() if callable(pairs) else (pairs or enum_cls.choices())
        return items + [SelectChoice(value, label) for value, label in source]

    return build


def storable(form, field) -> None:
    """The policy for one field, checked before anything else about it (its choices, its validators:
    a NaN cannot even be compared with a NumberRange's bounds). Empty values are left to
    Optional/DataRequired; dates to `in_date_range`."""
    data = field.data
    if data is None or data == "" or field.type == "CSRFTokenField":
        return
    if isinstance(data, str):  # text fields, and the value sent for a choice
        if validation.has_unstorable_characters(data, multiline=True):
            raise StopValidation(UNSTORABLE)
        if isinstance(field, StringField) and not isinstance(field, TextAreaField) and validation.has_line_break(data):
            raise StopValidation(ONE_LINE)
    elif isinstance(field, DecimalField) and isinstance(data, Decimal) and not validation.storable_amount(data):
        raise StopValidation(AMOUNT_RANGE)
    elif isinstance(field, FloatField) and isinstance(data, float) and not math.isfinite(data):
        raise StopValidation(AMOUNT_RANGE)
    elif isinstance(field, IntegerField) and isinstance(data, int) and not validation.storable_int(data):
        raise StopValidation(NUMBER_RANGE)


def in_date_range(form, field) -> None:
    """The policy's date range, checked after the field's own validators: a far date breaks nothing
    until it is used (moved to another timezone, a day added), so a form's own check speaks first."""
    if (
        isinstance(field, DateTimeField)
        and isinstance(field.data, date)
        and not field.errors
        and not validation.date_in_range(field.data)
    ):
        raise ValidationError(DATE_RANGE)


def _leaf_fields(form):
    """Every field of the form, those of its sub-forms and list entries included."""
    for field in form:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            for entry in field.entries:
                yield from (_leaf_fields(entry.form) if isinstance(entry, FormField) else (entry,))
        else:
            yield field


def _guard(field) -> None:
    """Make `storable` the first step of the field's pre-validation (a StopValidation there skips
    the field's validators, so the field shows one clear message) and `in_date_range` its last."""
    if getattr(field.pre_validate, "storable", False):
        return
    own_pre, own_post = field.pre_validate, field.post_validate

    def pre_validate(form):
        storable(form, field)
        own_pre(form)

    def post_validate(form, validation_stopped):
        own_post(form, validation_stopped)
        in_date_range(form, field)

    pre_validate.storable = True
    field.pre_validate, field.post_validate = pre_validate, post_validate


class QuickSelect(Select):
    """WTForms' select list, writing the same HTML for an option without attributes of its own by
    plain string building: WTForms formats every option's attributes through Markup.format and
    inspects the method's signature at every render, which made the queue's filter form (about 60
    options) a third of the page's time."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return Select.render_option.__func__(cls, choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        return Markup(f'<option {selected}value="{escape(value)}">{escape(choice.label or choice.value)}</option>')

    @classmethod
    def _dispatch_render_option(cls):
        return cls.render_option


QUICK_SELECT = QuickSelect()


def quick_params(**attributes) -> Markup:
    """WTForms' html_params (sorted, True for a bare attribute, False left out), without Markup.format."""
    written = []
    for key, value in sorted(attributes.items()):
        if value is True:
            written.append(escape(clean_key(key)))
        elif value is not False:
            written.append(f'{escape(clean_key(key))}="{escape(value)}"')
    return Markup(" ".join(written))


_TWINS = weakref.WeakKeyDictionary()


def _quick_twin(widget):
    """The same input widget, writing its attributes with quick_params (a radio group of eleven
    options is eleven inputs)."""
    twin = _TWINS.get(widget)
    if twin is None:
        twin = _TWINS[widget] = copy.copy(widget)
        twin.html_params = quick_params
    return twin


# WTForms' own messages, in the desk's catalogue so that their Chinese is complete and reads like the
# rest of the desk's (listed here for extraction; WTForms asks for them through DeskTranslations).
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Invalid email address."),
    _l("Invalid input."),
    _l("Invalid URL."),
    _l("Not a valid choice."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Not a valid date value."),
    _l("Not a valid datetime value."),
    _l("Not a valid time value."),
    _l("Field must be equal to %(other_name)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("Invalid CSRF Token."),
    _l("CSRF token missing."),
    _l("CSRF failed."),
    _l("CSRF token expired."),
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1),
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1),
    ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    ngettext(
        "'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.", 1
    ),
)


class DeskTranslations:
    """The translations WTForms writes its messages with (every form and sub-form): the desk's catalogue
    in the reader's language, else WTForms' own. Unformatted: WTForms fills in the numbers itself."""

    def gettext(self, string):
        ours = translations().ugettext(string)
        return ours if ours != string else wtforms_translations.gettext(string)

    def ngettext(self, singular, plural, n):
        ours = translations().ungettext(singular, plural, n)
        return ours if ours not in (singular, plural) else wtforms_translations.ngettext(singular, plural, n)


DESK_TRANSLATIONS = DeskTranslations()


class QuickRendering:
    """Form metadata that draws plain select lists with QuickSelect and inputs with quick_params, and
    writes WTForms' messages in the reader's language."""

    def get_translations(self, form):
        return DESK_TRANSLATIONS

    def render_field(self, field, render_kw):
        widget = field.widget
        if type(widget) is Select and not widget.multiple:
            widget = QUICK_SELECT
        elif isinstance(widget, Input) and type(widget).html_params is Input.html_params:
            widget = _quick_twin(widget)
        else:
            return super().render_field(field, render_kw)
        field_kw = getattr(field, "render_kw", None)
        return widget(field, **(dict(field_kw, **render_kw) if field_kw else render_kw))


class StorablePolicy:
    """Applies `storable` and `in_date_range` to every field of the form, whatever the form declares."""

    def validate(self, extra_validators=None):
        for field in _leaf_fields(self):
            _guard(field)
        return super().validate(extra_validators)


class PolicyForm(StorablePolicy, FlaskForm):
    """The base of every HTML form: refuses what the database could not store, next to the field."""

    class Meta(QuickRendering):
        pass


class PolicySubForm(StorablePolicy, PlainForm):
    """The base of sub-forms (FormField, FieldList entries): the same policy, without CSRF."""

    class Meta(QuickRendering):
        pass


class VersionField(HiddenField):
    """The case version a page was loaded at (optimistic locking): a whole number the database can
    hold. Anything else means an altered page: an error on the form, never an exception."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0]:
            self.data = None
            return
        self.data = validation.parse_id(valuelist[0])
        if self.data is None:
            raise ValueError(VERSION)

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()  # one message is enough; DataRequired would add a second


def text_arg(name: str, default: str = "") -> str:
    """A text parameter of the query string; one the database could not store is a 400."""
    value = request.args.get(name, default)
    if validation.has_unstorable_characters(value, multiline=False):
        abort(400)
    return value


def _scale(first: int, last: int):
    return options(pairs=[(str(n), str(n)) for n in range(first, last + 1)])


class SurveyQuestions:
    """The survey after a follow-up (satisfaction, NPS, loyalty, perceived fairness): the customer
    answers it on the portal, or staff take the answers down on the phone — the same questions."""

    satisfaction = RadioField(
        _l("How satisfied are you with the outcome? (1 = very unhappy, 5 = delighted)"),
        validators=[InputRequired()],
        choices=_scale(1, 5),
    )
    recommend = RadioField(
        _l("How likely are you to recommend us? (0 = not at all, 10 = certainly)"),
        validators=[InputRequired()],
        choices=_scale(0, 10),
    )
    buy_again = RadioField(
        _l("Would you buy from us again?"),
        validators=[InputRequired()],
        choices=options(pairs=lambda: [("yes", _l("Yes")), ("maybe", _l("Maybe")), ("no", _l("No"))]),
    )
    fair_outcome = RadioField(_l("How fair was the outcome? (1-5)"), validators=[InputRequired()], choices=_scale(1, 5))
    fair_process = RadioField(
        _l("How fair was the way we handled it? (1-5)"), validators=[InputRequired()], choices=_scale(1, 5)
    )
    fair_treatment = RadioField(
        _l("How well were you treated? (1-5)"), validators=[InputRequired()], choices=_scale(1, 5)
    )
    comment = TextAreaField(_l("Anything else you want to tell us?"), validators=[Length(max=2000)])
