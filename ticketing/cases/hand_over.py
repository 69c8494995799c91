"""Where cases can be handed over to: a colleague who can take them, or back to the team queue."""

from flask_babel import lazy_ngettext

from ticketing import refusals
from ticketing.auth.models import User
from ticketing.cases.queries import active_staff, open_cases_of
from ticketing.cases.services import hand_over
from ticketing.extensions import db
from ticketing.forms_common import options
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.validation import parse_id

TEAM_QUEUE = "none"  # the choice that hands cases back to the team queue


def hand_over_choices(leaving: int | None = None, staff: list | None = None) -> list:
    """The team queue, then every active colleague (`staff`, else read) but the one the cases leave."""
    people = [
        (str(user.id), f"{user.name} ({user.role.label})") for user in staff or active_staff() if user.id != leaving
    ]
    return options(blank=_("— choose —"), pairs=[(TEAM_QUEUE, _("Nobody: back to the team queue"))] + people)()


def chosen_assignee(value: str, leaving: int | None = None, field: str | None = None) -> User | None:
    """The colleague a hand-over form chose (None: the team queue); an unknown or disabled one, or the
    one the cases leave, is refused (next to `field` when given)."""
    if value == TEAM_QUEUE:
        return None
    user = db.session.get(User, parse_id(value or "") or 0)
    if user is None or not user.active or user.id == leaving:
        raise refusals.Refusal(_l("That colleague cannot take cases now."), status=refusals.UNPROCESSABLE, field=field)
    return user


def before_disabling(user, acting, destination: str | None) -> list:
    """An account that holds open cases is disabled only once they have somewhere to go (nobody would
    see them otherwise): `destination` is a hand-over choice. Hands them over (each logged); returns
    the cases moved. Refused, next to the choice, when there are cases and no destination."""
    cases = open_cases_of(user.id)
    if not cases:
        return []
    if not destination:
        raise refusals.Refusal(
            lazy_ngettext(
                "%(name)s holds %(num)d open case: choose where it goes before disabling the account.",
                "%(name)s holds %(num)d open cases: choose where they go before disabling the account.",
                len(cases),
                name=user.name,
            ),
            status=refusals.UNPROCESSABLE,
            field="cases_to",
        )
    assignee = chosen_assignee(destination, leaving=user.id, field="cases_to")
    return hand_over([(ticket, None) for ticket in cases], acting, assignee=assignee)
