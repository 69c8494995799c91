"""The one way reminder rows are written: schedule() and cancel() by key, and the reminders a case needs.

Services call sync_reminders() (through Change.done) in the same transaction as the change:
reminders the case no longer needs are cancelled, new ones are added. Keys are unique and
carry the due time and recipient, so a moved deadline or a new assignee makes a new reminder.
One-off notices (a survey, a customer's message, a preventive action's due date…) are
scheduled by key too, so the same notice is never made twice.
"""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ticketing.auth.models import User
from ticketing.cases.deadlines import policy_hours, promise_deadline, resolution_offered, warning_lead
from ticketing.cases.models import Reminder, Ticket
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import STATE_KINDS, ReminderKind, ReminderStatus, ResolutionState, Status
from ticketing.extensions import db


def schedule(
    key: str,
    kind: ReminderKind,
    *,
    due_at: datetime,
    now: datetime,
    audience: str,
    ticket_id: int | None = None,
    user_id: int | None = None,
    details: dict | None = None,
    fresh: bool = False,
) -> Reminder:
    """The reminder under `key`: made when new, revived when it was cancelled, else left as it is.
    `fresh`: the key ends in a random part of its own (a one-off notice: fresh_key), so no reminder can
    have it yet and none is looked up."""
    reminder = None if fresh else db.session.scalar(select(Reminder).where(Reminder.key == key))
    if reminder is None:
        reminder = Reminder(
            key=key,
            kind=kind,
            ticket_id=ticket_id,
            user_id=user_id,
            audience=audience,
            due_at=due_at,
            run_at=due_at,
            created_at=now,
            details=details,
            status=ReminderStatus.PENDING,
            attempts=0,
        )
        db.session.add(reminder)
    elif reminder.status == ReminderStatus.CANCELLED:
        reminder.status, reminder.run_at = ReminderStatus.PENDING, due_at
    return reminder


def fresh_key(kind: str, ticket) -> str:
    """A one-off notice's key: the kind, the case and its version, and 128 random bits, so two notices
    of the same kind about the same moment of a case are two reminders, and no key is ever taken."""
    return f"{kind}:{ticket.id}:{ticket.version}:{uuid.uuid4().hex}"


def schedule_new(reminders: list[dict], now: datetime) -> int:
    """Add the reminders whose keys are new, in one statement that skips keys already taken (so a
    second scheduler doing the same at the same moment adds nothing); returns how many were added."""
    if not reminders:
        return 0
    rows = [
        {
            "run_at": fields["due_at"],
            "created_at": now,
            "status": ReminderStatus.PENDING,
            "attempts": 0,
            "ticket_id": None,
            "user_id": None,
            "details": None,
            **fields,
        }
        for fields in reminders
    ]
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Reminder).values(rows).on_conflict_do_nothing(index_elements=["key"])
    return len(db.session.execute(statement.returning(Reminder.id)).all())


def cancel(*keys: str) -> None:
    """Cancel the reminders under `keys` that have not been sent yet."""
    db.session.execute(
        update(Reminder)
        .where(Reminder.key.in_(keys), Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
    )


def _owner(ticket) -> tuple[str, int | None]:
    """Reminders go to the assignee; an unassigned case's go to the supervisors."""
    return ("assignee", ticket.assignee_id) if ticket.assignee_id else ("supervisors", None)


def desired_reminders(ticket) -> dict[str, dict]:
    """key -> reminder fields, for every reminder the case in its current state needs."""
    if ticket.status != Status.OPEN:
        return {}
    wanted: dict[str, dict] = {}
    owner = _owner(ticket)

    def want(kind, due_at, audience_user, before=None):
        if before is not None and before <= due_at:
            return
        audience, user_id = audience_user
        key = f"{kind}:{ticket.id}:{int(due_at.timestamp())}:{user_id or audience}"
        wanted[key] = dict(kind=kind, ticket_id=ticket.id, user_id=user_id, audience=audience, due_at=due_at)

    response_hours, resolution_hours = policy_hours(ticket.priority, ticket.category)
    if ticket.responded_at is None:
        want("response_at_risk", ticket.response_due_at - warning_lead(response_hours), owner)
        want("response_breached", ticket.response_due_at, ("supervisors", None))
    if not resolution_offered(ticket):
        want("resolution_at_risk", ticket.resolution_due_at - warning_lead(resolution_hours), owner)
        want("resolution_breached", ticket.resolution_due_at, ("supervisors", None))
    promise = promise_deadline(ticket)
    if promise is not None and ticket.resolution_state in (ResolutionState.AWAITING_CUSTOMER, ResolutionState.ACCEPTED):
        warning = timedelta(hours=desk().promise_warning_hours)
        want("promise_approaching", promise - warning, owner)
        want("promise_passed", promise, owner)
    if ticket.follow_up_due_at is not None:
        want("follow_up_due", ticket.follow_up_due_at, owner)
    if ticket.review_due_at is not None:
        want("review_waiting", ticket.review_due_at, ("supervisors", None))
    if ticket.follow_up_due_at is not None and ticket.customer.email:
        lead = timedelta(hours=current_app.config["FOLLOW_UP_NOTICE_HOURS"])
        want("follow_up_coming", ticket.follow_up_due_at - lead, ("customer", None))
    return wanted


def sync_reminders(ticket, now: datetime) -> None:
    """Cancel what the case no longer needs, add what it now needs. Never commits."""
    wanted = desired_reminders(ticket)
    existing = {
        r.key: r
        for r in db.session.scalars(
            select(Reminder).where(Reminder.ticket_id == ticket.id, Reminder.kind.in_(STATE_KINDS))
        )
    }
    for key, reminder in existing.items():
        if key not in wanted and reminder.status == ReminderStatus.PENDING:
            reminder.status = ReminderStatus.CANCELLED
    for key, fields in wanted.items():
        reminder = existing.get(key)
        if reminder is not None and reminder.status != ReminderStatus.CANCELLED:
            continue
        # A warning whose deadline has already passed is pointless: the breach reminder speaks.
        if fields["kind"].endswith(("_at_risk", "_approaching")) and paired_deadline_passed(fields, wanted, now):
            continue
        if reminder is not None:  # needed again (assigned back, case reopened): the key is taken, revive it
            reminder.status, reminder.run_at = ReminderStatus.PENDING, fields["due_at"]
            continue
        db.session.add(Reminder(key=key, run_at=fields["due_at"], created_at=now, **fields))


def paired_deadline_passed(fields, wanted, now) -> bool:
    prefix = fields["kind"].rsplit("_", 2)[0] if fields["kind"].endswith("_at_risk") else "promise"
    later = [w["due_at"] for w in wanted.values() if w["kind"] in (f"{prefix}_breached", f"{prefix}_passed")]
    return any(due <= now for due in later)


# Hand-offs: the action that leaves a case waiting for someone tells them at once.
# action -> (notice, who): "assignee" (or the supervisors when nobody has the case), "supervisors".
HANDOFFS = {
    "assign": (ReminderKind.ASSIGNED, "assignee"),
    "propose": (ReminderKind.APPROVAL_WAITING, "supervisors"),  # only when it waits for approval
    "approve_compensation": (ReminderKind.APPROVAL_GRANTED, "assignee"),
    "refuse_compensation": (ReminderKind.APPROVAL_REFUSED, "assignee"),
    "customer_accepts": (ReminderKind.CUSTOMER_ACCEPTED, "assignee"),
    "customer_rejects": (ReminderKind.CUSTOMER_REJECTED, "assignee"),
    "customer_reopens": (ReminderKind.CUSTOMER_REOPENED, "assignee"),
    "escalate": (ReminderKind.ESCALATED, "escalation"),
    "auto_escalate": (ReminderKind.ESCALATED, "escalation"),
}


def notify_handoff(ticket, actor, action: str, now: datetime, changes: dict) -> None:
    """Tell whoever `action` hands the case to — never the person who did it."""
    if action not in HANDOFFS or (action == "assign" and (ticket.assignee_id is None or "assignee" not in changes)):
        return  # (a case handed back to the team queue waits there: nobody is told)
    kind, who = HANDOFFS[action]
    if action == "propose" and ticket.resolution_state != ResolutionState.AWAITING_APPROVAL:
        return
    if who == "escalation":
        notify_escalation(ticket, actor, kind, now, changes)
        return
    if who == "assignee" and actor is not None and actor.id == ticket.assignee_id:
        return
    if who == "supervisors":
        notify_assignee(ticket, kind, now, audience=("supervisors", None))
    else:
        notify_assignee(ticket, kind, now)


def notify_escalation(ticket, actor, kind: str, now: datetime, changes: dict) -> None:
    """An escalation is never silent: whoever holds the case now is told, with the reason and the
    priority; when that is the one who escalated (or nobody holds it), the supervisors are."""
    by_holder = actor is not None and actor.id == ticket.assignee_id
    audience = ("supervisors", None) if by_holder or ticket.assignee_id is None else None
    details = {name: str(changes[name][1]) for name in ("reason", "priority") if name in changes}
    details.update(by=actor.name if actor is not None else None, automatic=actor is None)
    notify_assignee(ticket, kind, now, audience=audience, details=details)


def notify_assignee(
    ticket, kind: str, now: datetime, audience: tuple[str, int | None] | None = None, details: dict | None = None
) -> None:
    """A one-off notice to the case's assignee (or the supervisors when nobody has it), now;
    `details` are what it says beyond the case itself (a reviewer's reason)."""
    audience, user_id = audience or _owner(ticket)
    schedule(
        fresh_key(kind, ticket),
        kind,
        ticket_id=ticket.id,
        user_id=user_id,
        audience=audience,
        due_at=now,
        now=now,
        details=details,
        fresh=True,
    )


def send_portal_link(ticket, now: datetime) -> None:
    """E-mail the customer a private link to the case (a fresh token is minted when it is sent)."""
    if not ticket.customer.email:
        return
    schedule(
        fresh_key(ReminderKind.PORTAL_LINK, ticket),
        ReminderKind.PORTAL_LINK,
        ticket_id=ticket.id,
        audience="customer",
        due_at=now,
        now=now,
        fresh=True,
    )


def request_survey(ticket, follow_up, now: datetime) -> None:
    """After every follow-up, satisfied or not, the customer is asked how we did, and reminded once
    SURVEY_REMINDER_DAYS later (0: never) unless they answered meanwhile. Only by e-mail, when we have
    theirs: a customer without one answers on the phone, and staff take the answers down."""
    if not ticket.customer.email:
        return
    schedule(
        f"satisfaction_survey:{ticket.id}:follow_up:{follow_up.id}",
        ReminderKind.SATISFACTION_SURVEY,
        ticket_id=ticket.id,
        audience="customer",
        due_at=now,
        now=now,
    )
    # An earlier follow-up's reminder would only repeat the survey the customer has just been sent.
    db.session.execute(
        update(Reminder)
        .where(
            Reminder.ticket_id == ticket.id,
            Reminder.kind == ReminderKind.SURVEY_REMINDER,
            Reminder.status == ReminderStatus.PENDING,
        )
        .values(status=ReminderStatus.CANCELLED)
    )
    days = current_app.config["SURVEY_REMINDER_DAYS"]
    if days > 0:
        schedule(
            survey_reminder_key(follow_up),
            ReminderKind.SURVEY_REMINDER,
            ticket_id=ticket.id,
            audience="customer",
            due_at=now + timedelta(days=days),
            now=now,
            details={"follow_up_id": follow_up.id},
        )


def survey_reminder_key(follow_up) -> str:
    """The one reminder to answer the survey of `follow_up`."""
    return f"survey_reminder:{follow_up.ticket_id}:follow_up:{follow_up.id}"


def create_daily_digests(now: datetime) -> int:
    """One digest per active staff member per local day; the unique key makes reruns harmless."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    day = now.astimezone(zone).date().isoformat()
    keys = {
        f"daily_digest:{user_id}:{day}": user_id
        for user_id in db.session.scalars(select(User.id).where(User.active.is_(True)))
    }
    taken = set(db.session.scalars(select(Reminder.key).where(Reminder.key.in_(list(keys)))))
    for key, user_id in keys.items():
        if key not in taken:
            schedule(key, ReminderKind.DAILY_DIGEST, user_id=user_id, audience="user", due_at=now, now=now)
    return len(keys) - len(taken)


def skip_customer_notices_due_before(moment: datetime) -> int:
    """Mark the customer's pending notices due before `moment` as skipped: for a history loaded in
    one go (the demo data), whose customers were never written to at the time."""
    return db.session.execute(
        update(Reminder)
        .where(Reminder.audience == "customer", Reminder.status == ReminderStatus.PENDING, Reminder.due_at < moment)
        .values(status=ReminderStatus.SKIPPED)
    ).rowcount


# Retention. A sent or cancelled reminder row is the scheduler's working state, not the case's record:
# the in-app notice keeps what it said, deliveries what left the building, the record log the case.
# It may go once nothing can ask for its key again (a missing key would be scheduled anew and sent a
# second time). These kinds, once handed out, stay whatever their age: a missed deadline's escalation is shown on the
# case and weighs in its risk, and a win-back or preventive action re-schedules its one key while the
# action is open.
RETAINED_KINDS = frozenset(
    {
        ReminderKind.RESPONSE_BREACHED,
        ReminderKind.RESOLUTION_BREACHED,
        ReminderKind.WIN_BACK_DUE,
        ReminderKind.PREVENTIVE_ACTION_DUE,
    }
)


def past_retention(cutoff: datetime):
    """SQL: the reminder rows that may be removed, being older than `cutoff` and asked for by nobody again.

    - Cancelled: a cancelled row and no row act alike (schedule() and sync_reminders() revive the one
      and make the other, pending either way), and nothing was ever handed out for it.
    - Sent or skipped: every key but a case's deadline reminders is made once — it holds the day, the
      week, the follow-up, or a random part. A deadline reminder is asked for again only while its case
      is open (desired_reminders), and reopening a case starts its deadlines anew (new keys); the
      at-risk warning of a first response never given is not made again either, its breach having
      passed. So those of closed and cancelled cases may go.
    """
    case_still_open = exists(select(Ticket.id).where(Ticket.id == Reminder.ticket_id, Ticket.status == Status.OPEN))
    handed_out = and_(
        Reminder.status.in_((ReminderStatus.SENT, ReminderStatus.SKIPPED)),
        or_(Reminder.sent_at.is_(None), Reminder.sent_at < cutoff),
        Reminder.kind.not_in(RETAINED_KINDS),
        or_(Reminder.kind.not_in(STATE_KINDS), Reminder.ticket_id.is_(None), ~case_still_open),
    )
    return and_(
        Reminder.run_at < cutoff,
        Reminder.created_at < cutoff,
        or_(Reminder.status == ReminderStatus.CANCELLED, handed_out),
    )
