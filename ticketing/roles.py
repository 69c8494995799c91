"""Staff roles: what a user may do is decided by these three words."""

from ticketing.i18n import lazy_gettext as _l
from ticketing.labelled import LABELS, Labelled


class Role(Labelled):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


LABELS[Role] = {"agent": _l("Agent"), "supervisor": _l("Supervisor"), "admin": _l("Administrator")}
