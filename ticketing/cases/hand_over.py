"""Where cases can be handed over to: a colleague who can take them, or back to the team queue."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ticketing import refusals
from ticketing.auth.models import User
from ticketing.cases.queries import active_staff
from ticketing.extensions import db
from ticketing.forms_common import options
from ticketing.validation import parse_id

TEAM_QUEUE = "none"  # the choice that hands cases back to the team queue


def hand_over_choices(leaving: int | None = None, staff: list | None = None) -> list:
    """The team queue, then every active colleague (`staff`, else read) but the one the cases leave."""
    people = [
        (str(user.id), f"{user.name} ({user.role.label})") for user in staff or active_staff() if user.id != leaving
    ]
    return options(blank=_("— choose —"), pairs=[(TEAM_QUEUE, _("Nobody: back to the team queue"))] + people)()


def chosen_assignee(value: str) -> User | None:
    """The colleague a hand-over form chose (None: the team queue); a disabled or unknown one is refused."""
    if value == TEAM_QUEUE:
        return None
    user = db.session.get(User, parse_id(value or "") or 0)
    if user is None or not user.active:
        raise refusals.Refusal(_l("That colleague cannot take cases now."), status=refusals.UNPROCESSABLE)
    return user
