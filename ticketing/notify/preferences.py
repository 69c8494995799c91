"""Who wants which staff notice how: per-kind channels (in the app, e-mail, both, off) and a supervisor's scope.

The dispatcher asks `channels_for` / `channels_by_user` how to reach each recipient and `in_scope`
whether a supervisor also gets a copy; the preferences page calls `save_preferences`.
No row in notice_preferences means "both"; only choices that differ from it are stored.
"""

from collections.abc import Iterable

from sqlalchemy import select

from ticketing import refusals
from ticketing.cases.vocabulary import LABELS, ReminderKind
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.notify.models import NoticePreference

IN_APP, EMAIL = "in_app", "email"
DEFAULT = "both"
CHANNELS = ("both", "in_app", "email", "off")
CHANNEL_LABELS = {"both": _l("Both"), "in_app": _l("In the app"), "email": _l("E-mail"), "off": _l("Off")}
DELIVERS = {
    "both": frozenset({IN_APP, EMAIL}),
    "in_app": frozenset({IN_APP}),
    "email": frozenset({EMAIL}),
    "off": frozenset(),
}

_KINDS = {kind.value for kind in ReminderKind}
# The staff notices, in the order the page shows them. Customer notices (portal_link,
# satisfaction_survey and those of vocabulary's CUSTOMER_KINDS) are not anyone's to configure.
HANDOFF_KINDS = (
    "assigned",
    "approval_waiting",
    "approval_granted",
    "approval_refused",
    "customer_accepted",
    "customer_rejected",
    *(("customer_reopened",) if "customer_reopened" in _KINDS else ()),
    "customer_message",
    "review_returned",
    "escalated",
)
DEADLINE_KINDS = (
    "response_at_risk",
    "response_breached",
    "resolution_at_risk",
    "resolution_breached",
    "promise_approaching",
    "promise_passed",
    "follow_up_due",
    "review_waiting",
)
OVERVIEW_KINDS = ("daily_digest", "preventive_action_due", "win_back_due", "early_warning")
CONFIGURABLE = (*HANDOFF_KINDS, *DEADLINE_KINDS, *OVERVIEW_KINDS)
GROUPS = (
    (_l("When a case is handed to you"), HANDOFF_KINDS),
    (_l("Deadlines"), DEADLINE_KINDS),
    (_l("Summaries and actions you own"), OVERVIEW_KINDS),
)
# Addressed only to supervisors and administrators: an agent's page does not offer them.
SUPERVISOR_KINDS = frozenset(
    {"approval_waiting", "response_breached", "resolution_breached", "review_waiting", "early_warning"}
)

# These may change channel but never be turned off: each is the moment a case starts waiting for
# its reader (a new owner, an approval, a case returned) or the last alarm when a deadline or a
# promise to the customer has been missed. Turned off, a case would wait silently for someone.
MANDATORY = frozenset(
    {
        "assigned",
        "approval_waiting",
        "response_breached",
        "resolution_breached",
        "promise_passed",
        "review_returned",
        "escalated",
    }
)
MANDATORY_FALLBACK = frozenset({IN_APP})
MANDATORY_NOTE = _l("Cannot be turned off: a case would wait for you without your knowing.")
OFF_REFUSED = _l(
    "This notice cannot be turned off: a case would wait for you without your knowing. Choose how it reaches you."
)

EXPLANATIONS = {
    "assigned": _l("Someone else gives you a case."),
    "approval_waiting": _l("A proposal's compensation is above the agent's limit and waits for a supervisor."),
    "approval_granted": _l("A supervisor approves the compensation you proposed."),
    "approval_refused": _l("A supervisor refuses the compensation you proposed: propose again."),
    "customer_accepted": _l("The customer accepts your proposal."),
    "customer_rejected": _l("The customer rejects your proposal."),
    "customer_reopened": _l("The customer reopens one of your closed cases."),
    "customer_message": _l("The customer writes on one of your cases."),
    "review_returned": _l("A supervisor returns one of your cases for more work."),
    "escalated": _l("A case is escalated to you, or someone raises the priority of one of yours (with the reason)."),
    "response_at_risk": _l("The first-response deadline of your case is near."),
    "response_breached": _l("A case's first-response deadline has passed."),
    "resolution_at_risk": _l("The resolution deadline of your case is near."),
    "resolution_breached": _l("A case's resolution deadline has passed."),
    "promise_approaching": _l("The date promised to the customer is near."),
    "promise_passed": _l("The date promised to the customer has passed."),
    "follow_up_due": _l("A follow-up call to the customer is due."),
    "review_waiting": _l("A case has waited too long for a supervisor's review."),
    "daily_digest": _l("Once a day: your open, overdue and follow-up cases."),
    "preventive_action_due": _l("A preventive action you own is due."),
    "win_back_due": _l("A win-back action you own is due."),
    "early_warning": _l("Complaints of one kind are rising faster than usual."),
}

SCOPE_ESCALATIONS, SCOPE_ALL = "escalations", "all"
SCOPES = (SCOPE_ESCALATIONS, SCOPE_ALL)
SCOPE_LABELS = {
    SCOPE_ESCALATIONS: _l(
        "Escalations only: unassigned cases, missed deadlines, approvals, reviews and early warnings"
    ),
    SCOPE_ALL: _l("All cases: also a copy of every notice sent to a case's assignee"),
}


class PreferenceError(refusals.Refusal):
    """A refused preference; `field` names the kind (or "scope") it is about."""

    status = refusals.UNPROCESSABLE


def channel_choices(kind: str) -> list[tuple[str, object]]:
    """(value, label) for one kind's choice: "off" is not offered for a mandatory kind."""
    return [(channel, CHANNEL_LABELS[channel]) for channel in CHANNELS if channel != "off" or kind not in MANDATORY]


def scope_choices() -> list[tuple[str, object]]:
    return [(scope, SCOPE_LABELS[scope]) for scope in SCOPES]


def kind_label(kind: str):
    return LABELS[ReminderKind].get(kind, kind)


def groups_for(user) -> list[tuple[object, tuple[str, ...]]]:
    """The page's sections for `user`: agents are not offered the notices only supervisors receive."""
    shown = lambda kind: user.is_supervisor or kind not in SUPERVISOR_KINDS  # noqa: E731
    return [(heading, tuple(filter(shown, kinds))) for heading, kinds in GROUPS]


def _channels(kind: str, stored: str | None) -> frozenset[str]:
    if kind not in CONFIGURABLE:
        return DELIVERS[DEFAULT]
    channels = DELIVERS.get(stored or DEFAULT, DELIVERS[DEFAULT])
    if not channels and kind in MANDATORY:  # a row written before the kind became mandatory
        return MANDATORY_FALLBACK
    return channels


def channels_for(user, kind: str) -> frozenset[str]:
    """How one notice of `kind` reaches `user`: a subset of {"in_app", "email"}, empty when turned
    off, never empty for a MANDATORY kind. Kinds no one configures always go both ways."""
    row = db.session.get(NoticePreference, (user.id, str(kind)))
    return _channels(kind, row.channels if row is not None else None)


def channels_by_user(user_ids: Iterable[int], kind: str) -> dict[int, frozenset[str]]:
    """channels_for for many recipients of one notice, in one query (none when there is no one)."""
    ids = list(dict.fromkeys(user_ids))
    stored = {}
    if ids and kind in CONFIGURABLE:
        rows = db.session.execute(
            select(NoticePreference.user_id, NoticePreference.channels).where(
                NoticePreference.kind == str(kind), NoticePreference.user_id.in_(ids)
            )
        )
        stored = dict(rows.all())
    return {user_id: _channels(kind, stored.get(user_id)) for user_id in ids}


def current_choices(user) -> dict[str, str]:
    """kind -> channels for every configurable kind (the defaults included), and the scope for supervisors."""
    rows = db.session.scalars(select(NoticePreference).where(NoticePreference.user_id == user.id))
    stored = {row.kind: row.channels for row in rows}
    choices = {kind: stored.get(kind, DEFAULT) for kind in CONFIGURABLE}
    return {**choices, "scope": user.notice_scope} if user.is_supervisor else choices


def _check(user, choices: dict[str, str], scope: str | None) -> None:
    for kind, channels in choices.items():
        if kind not in CONFIGURABLE:
            raise PreferenceError(_l("There is no such kind of notice: %(kind)s", kind=kind))
        if channels not in CHANNELS:
            raise PreferenceError(_l("Choose how this notice reaches you from the list."), field=kind)
        if channels == "off" and kind in MANDATORY:
            raise PreferenceError(OFF_REFUSED, field=kind)
    if scope is not None and not user.is_supervisor:
        raise PreferenceError(_l("Only supervisors and administrators choose which cases they hear about."))
    if scope is not None and scope not in SCOPES:
        raise PreferenceError(_l("Choose which cases you hear about from the list."), field="scope")


def save_preferences(user, choices: dict[str, str], scope: str | None = None) -> None:
    """Set `user`'s channels for the kinds in `choices` (others stay as they are) and, for a
    supervisor or administrator, the scope (None: unchanged). Everything is checked before anything
    changes: one refused choice keeps all of them unsaved. Only non-default choices keep a row.
    Stages the changes; the caller commits."""
    _check(user, choices, scope)
    rows = db.session.scalars(
        select(NoticePreference).where(NoticePreference.user_id == user.id, NoticePreference.kind.in_(list(choices)))
    )
    existing = {row.kind: row for row in rows}
    for kind, channels in choices.items():
        row = existing.get(kind)
        if channels == DEFAULT:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(NoticePreference(user_id=user.id, kind=str(kind), channels=channels))
        else:
            row.channels = channels
    if scope is not None:
        user.notice_scope = scope


def in_scope(user, audience: str) -> bool:
    """Whether `user` receives a notice with `audience` (a Reminder's) without being its addressee.

    The addressee (the assignee, or the owner of a personal notice) always receives their own. On
    top of that, supervisors and administrators receive what is addressed to "supervisors"
    (unassigned cases, missed deadlines, approvals, reviews; early warnings come to each of them by
    name) whatever their scope; with the scope "all" they also receive a copy of every notice
    addressed to a case's "assignee". A personal notice ("user") and a customer's are nobody's copy.
    """
    if not user.is_supervisor:
        return False
    if audience == "supervisors":
        return True
    return audience == "assignee" and user.notice_scope == SCOPE_ALL
