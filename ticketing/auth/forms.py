"""Login, account and user-administration forms."""

import email_validator
from babel.dates import get_timezone, get_timezone_location
from flask_babel import get_locale
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ticketing.forms_common import PolicyForm, options
from ticketing.i18n import lazy_gettext as _l
from ticketing.roles import Role

LANGUAGE_CHOICES = [("en", "English"), ("zh_CN", "简体中文")]
TIMEZONES = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
)


def timezone_choices() -> list[tuple[str, str]]:
    """Each timezone by its city in the reader's language ("上海", "Los Angeles"), UTC as itself."""
    locale = get_locale()
    return [
        (zone, zone if zone == "UTC" else get_timezone_location(get_timezone(zone), locale=locale, return_city=True))
        for zone in TIMEZONES
    ]


class LoginForm(PolicyForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class LanguageForm(PolicyForm):
    locale = SelectField(_l("Language"), choices=options(pairs=LANGUAGE_CHOICES))


class AccountForm(PolicyForm):
    locale = SelectField(_l("Language"), choices=options(pairs=LANGUAGE_CHOICES))
    timezone = SelectField(_l("Timezone"), choices=options(pairs=timezone_choices))


class PasswordForm(PolicyForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )


class TokenForm(PolicyForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=80)],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    read_only = BooleanField(_l("Read-only (may only read, never change anything)"))


def staff_address(form, field) -> None:
    """A staff account's address: well formed, on any domain, including the internal ones a customer's
    address may not have (ann@desk.local, ops@intranet). What is malformed (spaces, line breaks, a
    second @, an empty part) is refused as for every address."""
    local, at, domain = (field.data or "").rpartition("@")
    name = domain.lower().rstrip(".")
    for special in email_validator.SPECIAL_USE_DOMAIN_NAMES:  # checked whatever the options: stood in for
        if name == special or name.endswith("." + special):
            domain = name[: len(name) - len(special)] + "test"  # "test" passes in a test environment
            break
    try:
        email_validator.validate_email(
            f"{local}{at}{domain}", check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except email_validator.EmailNotValidError:
        raise ValidationError(_l("Invalid email address.")) from None


class UserForm(PolicyForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), staff_address, Length(max=254)])
    role = SelectField(_l("Role"), choices=options(Role))
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10, max=200)])
    locale = SelectField(_l("Language"), choices=options(pairs=LANGUAGE_CHOICES))


class UserEditForm(PolicyForm):
    role = SelectField(_l("Role"), choices=options(Role))
    active = BooleanField(_l("Active"))
    new_password = PasswordField(_l("Set a new password (optional)"), validators=[Length(max=200)])
    # asked only of an account that holds open cases, when it is being disabled (choices set by the view)
    cases_to = SelectField(_l("Where their open cases go"), choices=[], validate_choice=False)
