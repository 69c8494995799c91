"""The settings page's forms, one per section (the business calendar's are in calendar_forms.py): each
fills its inputs from the stored values (`from_values`) and gives back the changes for the settings
store to check and save (`changes`).

A piece of a setting (one priority's hours, one weekday, one limit) is checked beside its input by the
store's own rule (`store_check`), so the reason shows where the mistake is; a refusal about a setting
as a whole shows at the top of its section (the section's Save button carries it).
"""

from decimal import Decimal

from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Optional, ValidationError

from ticketing.cases import catalogue, settings
from ticketing.cases.settings_labels import KEY_LABELS
from ticketing.cases.vocabulary import CompensationType, Priority, Responsibility, Role
from ticketing.forms_common import PolicyForm, PolicySubForm, options
from ticketing.i18n import lazy_gettext as _l

PRIORITIES = tuple(priority.value for priority in Priority)


def store_check(key: str, value):
    """The settings store's own check of `key` on `value`: its reason when it refuses, else None."""
    try:
        settings.VALIDATORS[key](value, key)
    except settings.SettingError as refusal:
        return refusal.reason
    return None


def _refuse_if(reason) -> None:
    if reason is not None:
        raise ValidationError(str(reason))


def _number(value):
    """A stored number as an input shows it: 24, not 24.0."""
    return int(value) if float(value).is_integer() else value


class SectionForm(PolicyForm):
    """One section of the settings page, prefixed by its name so the sections' inputs never mix."""

    section = ""

    @classmethod
    def from_values(cls, values: dict):
        return cls(formdata=None, data=cls.data_from(values), prefix=cls.section)

    # Every section below defines both: which stored values fill its inputs, and what its inputs
    # change. The base is never used on its own.
    @classmethod
    def data_from(cls, values: dict) -> dict:
        raise TypeError(f"{cls.__name__} does not say which settings fill its inputs")

    def changes(self) -> dict:
        raise TypeError(f"{type(self).__name__} does not say which settings it changes")


# --- deadlines -----------------------------------------------------------------------------------


class HoursPairForm(PolicySubForm):
    response = DecimalField(_l("First response (hours)"), places=None, validators=[InputRequired()])
    resolution = DecimalField(_l("Resolution (hours)"), places=None, validators=[InputRequired()])

    def validate_response(self, field):
        if field.data is not None:
            _refuse_if(store_check("category_deadline_hours", {"pair": [field.data, field.data]}))

    def validate_resolution(self, field):
        if field.data is None:
            return
        response = field.data if self.response.errors or self.response.data is None else self.response.data
        _refuse_if(store_check("category_deadline_hours", {"pair": [response, field.data]}))

    def pair(self) -> list:
        return [float(self.response.data), float(self.resolution.data)]


class PriorityHoursForm(PolicySubForm):
    urgent = FormField(HoursPairForm, Priority.URGENT.label)
    high = FormField(HoursPairForm, Priority.HIGH.label)
    normal = FormField(HoursPairForm, Priority.NORMAL.label)
    low = FormField(HoursPairForm, Priority.LOW.label)


class OverrideForm(PolicySubForm):
    """One category with hours of its own; no category chosen: the row is left out."""

    # every category, the retired too: a category retired since it got hours of its own keeps them
    category = SelectField(_l("Category"), choices=options(blank=_l("— none —"), pairs=catalogue.all_category_choices))
    response = DecimalField(_l("First response (hours)"), places=None, validators=[Optional()])
    resolution = DecimalField(_l("Resolution (hours)"), places=None, validators=[Optional()])

    def validate(self, extra_validators=None):
        """A row with a category needs both hours, in an order the store takes (a blank row is left out)."""
        valid = super().validate(extra_validators)
        if not (valid and self.category.data):
            return valid
        hours = [self.response.data, self.resolution.data]
        if None in hours:
            reason = _l("Enter the first-response and resolution hours.")
        else:
            reason = store_check("category_deadline_hours", {"pair": hours})
        if reason is not None:
            self.resolution.errors = [*self.resolution.errors, str(reason)]
        return reason is None


class DeadlinesForm(SectionForm):
    section = "deadlines"
    priorities = FormField(PriorityHoursForm)
    overrides = FieldList(FormField(OverrideForm), min_entries=1, max_entries=60)
    submit = SubmitField(_l("Save the deadlines"))

    @classmethod
    def data_from(cls, values):
        return {
            "priorities": {
                name: {"response": _number(pair[0]), "resolution": _number(pair[1])}
                for name, pair in values["deadline_hours"].items()
            },
            "overrides": [
                {"category": code, "response": _number(pair[0]), "resolution": _number(pair[1])}
                for code, pair in values["category_deadline_hours"].items()
            ]
            + [{}],  # a blank row to add a category
        }

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        return self._each_category_once() and valid

    def _each_category_once(self) -> bool:
        seen = set()
        for row in self.overrides.entries:
            code = row.form.category.data
            if code and code in seen:
                row.form.category.errors = [
                    *row.form.category.errors,
                    str(_l("This category has its hours in another row.")),
                ]
                return False
            seen.add(code)
        return True

    def changes(self):
        return {
            "deadline_hours": {name: self.priorities[name].form.pair() for name in PRIORITIES},
            "category_deadline_hours": {
                row.form.category.data: [float(row.form.response.data), float(row.form.resolution.data)]
                for row in self.overrides.entries
                if row.form.category.data
            },
        }


# --- money ---------------------------------------------------------------------------------------


def _limit_check(form, field):
    """A limit is an amount the store takes as a limit (the same for every role)."""
    if field.data is not None:
        _refuse_if(store_check("compensation_limits", {role.value: field.data for role in Role}))


class LimitsForm(PolicySubForm):
    agent = DecimalField(Role.AGENT.label, validators=[InputRequired(), _limit_check])
    supervisor = DecimalField(Role.SUPERVISOR.label, validators=[InputRequired(), _limit_check])
    admin = DecimalField(Role.ADMIN.label, validators=[InputRequired(), _limit_check])


class MoneyForm(SectionForm):
    section = "money"
    limits = FormField(LimitsForm, _l("Compensation a role may grant without approval"))
    currency = StringField(_l("Currency (three letters, e.g. CNY)"), validators=[InputRequired()])
    submit = SubmitField(_l("Save limits and currency"))

    @classmethod
    def data_from(cls, values):
        limits = {role: Decimal(str(amount)) for role, amount in values["compensation_limits"].items()}
        return {"limits": limits, "currency": values["currency"]}

    def changes(self):
        return {
            "compensation_limits": {role.value: self.limits[role.value].data for role in Role},
            "currency": self.currency.data,
        }


# --- four eyes and fair offers -------------------------------------------------------------------


def _factor_check(form, field):
    """A factor is a number the store takes as one (the same for every responsibility)."""
    if field.data is not None:
        _refuse_if(store_check("proportion_factors", {r.value: field.data for r in Responsibility}))


class FactorsForm(PolicySubForm):
    company = DecimalField(Responsibility.COMPANY.label, places=None, validators=[InputRequired(), _factor_check])
    shared = DecimalField(Responsibility.SHARED.label, places=None, validators=[InputRequired(), _factor_check])
    third_party = DecimalField(
        Responsibility.THIRD_PARTY.label, places=None, validators=[InputRequired(), _factor_check]
    )
    customer = DecimalField(Responsibility.CUSTOMER.label, places=None, validators=[InputRequired(), _factor_check])


class FourEyesForm(SectionForm):
    section = "four_eyes"
    one_person_desk = BooleanField(KEY_LABELS["one_person_desk"])
    factors = FormField(FactorsForm, KEY_LABELS["proportion_factors"])
    no_loss_amount = DecimalField(KEY_LABELS["proportion_no_loss_amount"], validators=[InputRequired()])
    submit = SubmitField(_l("Save four eyes and fair offers"))

    @classmethod
    def data_from(cls, values):
        return {
            "one_person_desk": values["one_person_desk"],
            "factors": {name: _number(factor) for name, factor in values["proportion_factors"].items()},
            "no_loss_amount": Decimal(str(values["proportion_no_loss_amount"])),
        }

    def validate_no_loss_amount(self, field):
        if field.data is not None:
            _refuse_if(store_check("proportion_no_loss_amount", field.data))

    def changes(self):
        return {
            "one_person_desk": bool(self.one_person_desk.data),
            "proportion_factors": {r.value: float(self.factors[r.value].data) for r in Responsibility},
            "proportion_no_loss_amount": self.no_loss_amount.data,
        }


# --- the service guarantee -----------------------------------------------------------------------


class GuaranteeLineForm(PolicySubForm):
    """One line of a priority's guarantee; no compensation chosen: the line is left out."""

    kind = SelectField(_l("Compensation"), choices=options(CompensationType, blank=_l("— none —")))
    amount = DecimalField(_l("Amount (optional)"), validators=[Optional()])

    def validate_amount(self, field):
        if self.kind.data and field.data is not None:
            _refuse_if(store_check("service_guarantee", {"line": [[self.kind.data, field.data]]}))

    def line(self) -> list:
        return [self.kind.data, self.amount.data]


def _amount(stored) -> Decimal | None:
    return Decimal(str(stored)) if stored not in (None, "") else None


def _lines(label):
    return FieldList(FormField(GuaranteeLineForm), label, min_entries=1, max_entries=10)


class GuaranteeForm(SectionForm):
    section = "guarantee"
    urgent = _lines(Priority.URGENT.label)
    high = _lines(Priority.HIGH.label)
    normal = _lines(Priority.NORMAL.label)
    low = _lines(Priority.LOW.label)
    submit = SubmitField(_l("Save the service guarantee"))

    @classmethod
    def data_from(cls, values):
        guarantee = values["service_guarantee"]
        return {
            name: [{"kind": kind, "amount": _amount(amount)} for kind, amount in guarantee.get(name, [])] + [{}]
            for name in PRIORITIES
        }

    def changes(self):
        return {
            "service_guarantee": {
                name: [row.form.line() for row in self[name].entries if row.form.kind.data] for name in PRIORITIES
            }
        }


# --- timing --------------------------------------------------------------------------------------

TIMING_KEYS = (
    "follow_up_delay_hours",
    "review_delay_hours",
    "promise_warning_hours",
    "at_risk_fraction",
    "reopen_days",
    "digest_hour",
    "auto_escalate_on_breach",
    "reminder_retention_days",
)


class TimingForm(SectionForm):
    """Field names are the settings' keys: the store's refusal shows beside its input."""

    section = "timing"
    follow_up_delay_hours = DecimalField(KEY_LABELS["follow_up_delay_hours"], places=None, validators=[InputRequired()])
    review_delay_hours = DecimalField(KEY_LABELS["review_delay_hours"], places=None, validators=[InputRequired()])
    promise_warning_hours = DecimalField(KEY_LABELS["promise_warning_hours"], places=None, validators=[InputRequired()])
    at_risk_fraction = DecimalField(KEY_LABELS["at_risk_fraction"], places=None, validators=[InputRequired()])
    reopen_days = IntegerField(KEY_LABELS["reopen_days"], validators=[InputRequired()])
    digest_hour = SelectField(
        KEY_LABELS["digest_hour"],
        coerce=int,
        choices=options(pairs=[(str(hour), f"{hour:02d}:00") for hour in range(24)]),
    )
    auto_escalate_on_breach = BooleanField(KEY_LABELS["auto_escalate_on_breach"])
    reminder_retention_days = IntegerField(KEY_LABELS["reminder_retention_days"], validators=[InputRequired()])
    submit = SubmitField(_l("Save the timing"))

    @classmethod
    def data_from(cls, values):
        return {key: _number(values[key]) if key != "auto_escalate_on_breach" else values[key] for key in TIMING_KEYS}

    def changes(self):
        numbers = {key: float(self[key].data) for key in TIMING_KEYS[:4]}
        return {
            **numbers,
            "reopen_days": self.reopen_days.data,
            "digest_hour": self.digest_hour.data,
            "auto_escalate_on_breach": bool(self.auto_escalate_on_breach.data),
            "reminder_retention_days": self.reminder_retention_days.data,
        }


class RecomputeForm(PolicyForm):
    """Time the running deadlines of open cases again (after a confirmation in the browser)."""

    submit = SubmitField(_l("Recompute the deadlines of open cases"))


# --- logins --------------------------------------------------------------------------------------

SESSION_KEYS = ("session_idle_minutes", "session_max_hours")


class SessionsForm(SectionForm):
    section = "sessions"
    session_idle_minutes = IntegerField(KEY_LABELS["session_idle_minutes"], validators=[InputRequired()])
    session_max_hours = IntegerField(KEY_LABELS["session_max_hours"], validators=[InputRequired()])
    submit = SubmitField(_l("Save the logins"))

    @classmethod
    def data_from(cls, values):
        return {key: int(values[key]) for key in SESSION_KEYS}

    def validate_session_idle_minutes(self, field):
        if field.data is not None:
            _refuse_if(store_check("session_idle_minutes", field.data))

    def validate_session_max_hours(self, field):
        if field.data is not None:
            _refuse_if(store_check("session_max_hours", field.data))

    def changes(self):
        return {key: self[key].data for key in SESSION_KEYS}
