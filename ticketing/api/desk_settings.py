"""The settings resource: what PATCH /api/v1/settings takes and what GET /api/v1/settings answers.

The body's types are the stored values' shapes, so every value reaches the settings store's own checks
in a shape they read; the store decides what is acceptable (ranges, order, every priority present) and
refuses with the setting's key as the field.
"""

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ticketing.api.resources import Out
from ticketing.api.schemas import Body
from ticketing.cases import settings
from ticketing.cases.settings_labels import key_label
from ticketing.cases.vocabulary import CompensationType, Priority, Responsibility, Role

Hours = Annotated[float, Field(allow_inf_nan=False)]
HoursPair = Annotated[tuple[Hours, Hours], Field(description="[hours to the first response, hours to resolution]")]
Clock = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,2}:[0-9]{2}$")]
IsoDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
Amount = Annotated[Decimal, Field(allow_inf_nan=False)]
CategoryCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Weekday = Literal["0", "1", "2", "3", "4", "5", "6"]
Section = Literal["deadlines", "calendar", "money", "four_eyes", "guarantee", "timing", "sessions"]


def _no_defaults(schema: dict) -> None:
    """A setting left out stays as it is: the document shows no default for it (null is no value here)."""
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)


class SettingsIn(Body):
    """The settings to change, by key; those left out stay as they are. Admin tokens only."""

    model_config = {**Body.model_config, "json_schema_extra": _no_defaults}

    deadline_hours: dict[Priority, HoursPair] = Field(None, description="Every priority, with its two hours.")
    category_deadline_hours: dict[CategoryCode, HoursPair] = Field(
        None, description="Categories with hours of their own; the whole table (a category left out has none)."
    )
    business_hours: dict[Weekday, tuple[Clock, Clock] | None] | None = Field(
        None,
        description='Working hours per weekday, "0" (Monday) to "6": ["09:00", "18:00"], or null (or left out) '
        "for a day off; null for the whole setting: deadlines run around the clock.",
    )
    holidays: list[IsoDate] = Field(None, max_length=2000, description="Days off, whatever their weekday.")
    workdays: list[IsoDate] = Field(
        None, max_length=2000, description="Make-up working days: worked though their weekday is off."
    )
    compensation_limits: dict[Role, Amount] = Field(None, description="Every role, with its approval limit.")
    currency: Annotated[str, StringConstraints(max_length=3)] = Field(None, description="ISO 4217, e.g. CNY.")
    service_guarantee: dict[Priority, list[tuple[CompensationType, Amount | None]]] = Field(
        None, description="Per priority, the compensation lines [type, amount or null] a missed deadline offers."
    )
    follow_up_delay_hours: Hours = None
    review_delay_hours: Hours = None
    promise_warning_hours: Hours = None
    at_risk_fraction: Hours = Field(None, description="From 0.05 to 0.99.")
    reopen_days: Annotated[int, Field(strict=True)] = None
    digest_hour: Annotated[int, Field(strict=True)] = Field(None, description="0 to 23, in the desk's timezone.")
    auto_escalate_on_breach: Annotated[bool, Field(strict=True)] = None
    reminder_retention_days: Annotated[int, Field(strict=True)] = Field(
        None, description="7 to 3650: sent and cancelled reminder rows older than this are removed."
    )
    one_person_desk: Annotated[bool, Field(strict=True)] = Field(
        None, description="true: one person may handle and approve a case alone (recorded on each case it applies to)."
    )
    proportion_factors: dict[Responsibility, Hours] = Field(
        None, description="Every responsibility, with the factor of the estimated loss an offer may reach (0 to 100)."
    )
    proportion_no_loss_amount: Amount = Field(None, description="With no loss entered, an offer may reach this.")
    session_idle_minutes: Annotated[int, Field(strict=True)] = Field(
        None, description="5 to 1440: a login ends after this many minutes without a request."
    )
    session_max_hours: Annotated[int, Field(strict=True)] = Field(
        None, description="1 to 720: a login ends this many hours after it began, however active."
    )


def changes(body: SettingsIn) -> dict:
    """The settings the body names, as the store keeps them (JSON values)."""
    return body.model_dump(mode="json", include=body.model_fields_set)


def may_write(user, token) -> bool:
    """Only an administrator's token writes the settings (and not a read-only one)."""
    return user.role == Role.ADMIN and not token.read_only


class SettingOut(Out):
    value: Any = Field(description="As PATCH takes it.")
    section: Section
    label: str = Field(description="The setting's name, in the language asked for.")
    may_change: bool = Field(description="Whether the token's owner may change it (on the settings page).")


class SettingsOut(Out):
    settings: dict[str, SettingOut]
    writable: bool = Field(description="Whether this token may PATCH the settings: an administrator's, not read-only.")
    changed: list[str] = Field(description="After a PATCH: the settings whose value changed.")


def answer(user, token, changed: list[str] = ()) -> SettingsOut:
    """Every setting with its value, section, label and whether the token's owner may change it."""
    values = settings.raw_values()
    return SettingsOut(
        settings={
            key: SettingOut(
                value=values[key],
                section=section,
                label=str(key_label(key)),
                may_change=settings.may_change(user, key),
            )
            for key, section in settings.KEYS.items()
        },
        writable=may_write(user, token),
        changed=list(changed),
    )
