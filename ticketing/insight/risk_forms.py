"""Forms of the customers-at-risk, win-back, early-warning and team pages."""

from wtforms import BooleanField, DateField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ticketing.cases import catalogue
from ticketing.cases.vocabulary import Retention
from ticketing.forms_common import PolicyForm, options
from ticketing.i18n import lazy_gettext as _l

PERIODS = (30, 90, 365)


def _user_id(value) -> int | None:
    """A staff member's id from the form; the blank choice ("— choose —") is None."""
    return None if value in ("", None) else int(value)


class AtRiskFilterForm(PolicyForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    tier = SelectField(
        _l("Value tier"),
        default="",
        validators=[Optional()],
        choices=options(blank=_l("Any tier"), pairs=lambda: catalogue.tier_choices(include_retired=True)),
    )
    min_score = IntegerField(_l("Score at least"), validators=[Optional(), NumberRange(min=1, max=99)])
    open_only = BooleanField(_l("Only customers with an open case"))


class WinBackForm(PolicyForm):
    owner = SelectField(_l("Owner"), coerce=_user_id, validators=[InputRequired(_l("Choose who will do it."))])
    due_date = DateField(_l("Due date"), validators=[InputRequired(_l("Give a due date."))])
    plan = TextAreaField(
        _l("Plan: how will we win the customer back?"),
        validators=[DataRequired(_l("Say how the customer will be won back.")), Length(max=4000)],
    )

    def validate_due_date(self, field):
        if field.data and not 1970 <= field.data.year <= 9000:
            raise ValidationError(_l("Give a date between 1970 and 9000."))


class WinBackDoneForm(PolicyForm):
    outcome = SelectField(
        _l("Outcome"),
        validators=[InputRequired(_l("Choose what came of it."))],
        choices=options(Retention, blank=_l("— choose —")),
    )
    note = TextAreaField(_l("What was done"), validators=[DataRequired(_l("Say what was done.")), Length(max=4000)])

    def validate_outcome(self, field):
        if not field.data:
            raise ValidationError(_l("Choose what came of it."))


class WinBackCancelForm(PolicyForm):
    reason = TextAreaField(
        _l("Why is it called off?"), validators=[DataRequired(_l("Give a reason.")), Length(max=4000)]
    )


class PeriodForm(PolicyForm):
    class Meta:
        csrf = False

    days = SelectField(
        _l("Period"),
        default="90",
        validators=[Optional()],
        choices=options(pairs=lambda: [(str(d), _l("Last %(n)d days", n=d)) for d in PERIODS]),
    )

    def period_days(self) -> int:
        return int(self.days.data) if self.days.data in {str(d) for d in PERIODS} and not self.days.errors else 90
