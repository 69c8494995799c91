"""The notice-preferences form: one choice of channels per kind of staff notice, and a supervisor's scope."""

from functools import partial

from wtforms import RadioField, SelectField

from ticketing.forms_common import PolicyForm, options
from ticketing.i18n import lazy_gettext as _l
from ticketing.notify import preferences


def _one_field_per_kind(form_class):
    """A select named after each configurable kind (`assigned`, `daily_digest`…)."""
    for kind in preferences.CONFIGURABLE:
        choices = options(pairs=partial(preferences.channel_choices, kind))
        # The choices are checked by save_preferences, which says why "off" is refused.
        setattr(form_class, kind, SelectField(preferences.kind_label(kind), choices=choices, validate_choice=False))
    return form_class


@_one_field_per_kind
class PreferencesForm(PolicyForm):
    scope = RadioField(
        _l("Which cases you hear about"), choices=options(pairs=preferences.scope_choices), validate_choice=False
    )

    def channel_choices(self) -> dict[str, str]:
        """kind -> channels, for the kinds the request carries (or the form was filled with)."""
        return {kind: self[kind].data for kind in preferences.CONFIGURABLE if self[kind].data is not None}
