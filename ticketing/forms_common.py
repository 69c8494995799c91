"""What every form shares: choice lists (WTForms SelectChoice; tuples are deprecated in 3.3), the
validation policy of ticketing/validation.py applied to every field, and text from the query string."""

import math
from datetime import date
from decimal import Decimal

from flask import abort, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form as PlainForm
from wtforms.fields import (
    DateTimeField,
    DecimalField,
    FieldList,
    FloatField,
    FormField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation, ValidationError

from ticketing import validation

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


class StorablePolicy:
    """Applies `storable` and `in_date_range` to every field of the form, whatever the form declares."""

    def validate(self, extra_validators=None):
        for field in _leaf_fields(self):
            _guard(field)
        return super().validate(extra_validators)


class PolicyForm(StorablePolicy, FlaskForm):
    """The base of every HTML form: refuses what the database could not store, next to the field."""


class PolicySubForm(StorablePolicy, PlainForm):
    """The base of sub-forms (FormField, FieldList entries): the same policy, without CSRF."""


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
