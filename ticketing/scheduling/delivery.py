"""Who receives a reminder, and what it says: fanned out into in-app notices and one delivery per
recipient and channel, then each delivery sent on its own.

Reminders are fanned out a batch at a time: `Readers` reads the staff the batch reaches, their
channel choices and their digests' figures once for the batch (set-based queries, not one per
reminder), and `Staged` collects the batch's notices and deliveries for one bulk insert each.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, insert, or_, select

from ticketing.auth.models import User
from ticketing.cases import customer_notices
from ticketing.cases.deadlines import overdue_condition
from ticketing.cases.models import Reminder, Ticket
from ticketing.cases.portal_access import issue_token
from ticketing.cases.reminders import STATE_KINDS, desired_reminders
from ticketing.cases.services.resolution import approver_roles
from ticketing.cases.survey import survey_notice_needed
from ticketing.cases.vocabulary import CUSTOMER_KINDS, ReminderKind, ReminderStatus, ResolutionState, Role, Status
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.notify import messages
from ticketing.notify.channels import CHANNELS, Outgoing, thread_id
from ticketing.notify.models import Notification
from ticketing.notify.preferences import SCOPE_ALL, channels_by_user
from ticketing.scheduling.models import Delivery

SUPERVISING = (Role.SUPERVISOR, Role.ADMIN)


def still_needed(reminder: Reminder) -> bool:
    """A state reminder goes out only if the case still needs it (a closed case gets none); a
    customer's milestone only while it is still true. A late warning still goes out: the breach
    itself is only escalated to the supervisors."""
    if reminder.kind in STATE_KINDS:
        return reminder.key in desired_reminders(reminder.ticket)
    if reminder.kind in CUSTOMER_KINDS:
        return customer_notices.still_true(reminder.kind, reminder.ticket) and survey_notice_needed(reminder)
    return True


class Readers:
    """The staff a batch of reminders reaches, read once for the batch: each reminder's own reader
    and every active supervisor and administrator, with their channel choices per kind and their
    digests' figures. The batch is one transaction, so all of it is read as of the same moment."""

    def __init__(self, reminders: list[Reminder], now: datetime):
        own = {reminder.user_id for reminder in reminders if reminder.user_id is not None}
        supervising = and_(User.active.is_(True), User.role.in_(SUPERVISING))
        query = select(User).where(or_(User.id.in_(own), supervising) if own else supervising).order_by(User.id)
        self.users = {user.id: user for user in db.session.scalars(query)}
        self._digest_readers = [r.user_id for r in reminders if r.kind == ReminderKind.DAILY_DIGEST and r.user_id]
        self._now = now
        self._channels: dict[str, dict[int, frozenset[str]]] = {}
        self._digests: dict[int, dict] | None = None

    def get(self, user_id: int) -> User | None:
        return self.users.get(user_id)

    def in_roles(self, roles) -> list[User]:
        """The active staff holding one of `roles`, by id."""
        return [user for user in self.users.values() if user.active and user.role in roles]

    def followers(self, exclude: int) -> list[User]:
        """The active supervisors and administrators who chose to follow every case."""
        return [user for user in self.in_roles(SUPERVISING) if user.notice_scope == SCOPE_ALL and user.id != exclude]

    def channels(self, user_ids: list[int], kind: str) -> dict[int, frozenset[str]]:
        """channels_by_user, asked once per kind for everyone the batch reaches."""
        if kind not in self._channels:
            self._channels[kind] = channels_by_user(list(self.users), kind)
        chosen = self._channels[kind]
        return {user_id: chosen[user_id] for user_id in user_ids}

    def digest(self, user: User, now: datetime) -> dict:
        if self._digests is None or now != self._now or user.id not in self._digests:
            self._now = now
            self._digests = _digests({*self._digest_readers, user.id}, now)
        return self._digests[user.id]


def recipients(reminder: Reminder, readers: Readers | None = None) -> list[User]:
    """The staff a reminder is for. The assignee's notices also reach the supervisors who chose to
    follow every case; compensation waiting reaches only the supervisors whose limit covers it."""
    if reminder.audience == "customer":
        return []
    readers = readers or Readers([reminder], utcnow())
    if reminder.user_id is not None:
        user = readers.get(reminder.user_id)
        if reminder.audience == "user":  # a personal digest is for its owner alone
            return [user] if user is not None and user.active else []
        if user is not None and user.active:
            return [user, *readers.followers(exclude=user.id)]
    roles = approver_roles(reminder.ticket) if reminder.kind == ReminderKind.APPROVAL_WAITING else SUPERVISING
    return readers.in_roles(roles)


def details_for(reminder: Reminder, user: User | None, now: datetime, readers: Readers | None = None) -> dict:
    ticket = reminder.ticket
    if reminder.kind == ReminderKind.DAILY_DIGEST:
        return readers.digest(user, now) if readers else _digests([user.id], now)[user.id]
    if ticket is None:  # about no case (early warning, win-back): it says what it was made with
        return {**(reminder.details or {}), "due_at": reminder.due_at.isoformat()}
    if reminder.audience == "customer":
        details = customer_notices.what_the_customer_sees(reminder.kind, ticket, reminder.details)
        # Minted now, in the same transaction that marks the message sent: never stored in clear.
        details["link"] = f"{current_app.config['PUBLIC_URL'].rstrip('/')}/track/{issue_token(ticket)}"
        return details
    details = {
        **(reminder.details or {}),
        "reference": ticket.reference,
        "subject": ticket.subject,
        "due_at": reminder.due_at.isoformat(),
    }
    if ticket.promised_date:
        details["promised_date"] = ticket.promised_date.isoformat()
    return details


def _digests(user_ids, now: datetime) -> dict[int, dict]:
    """Each reader's digest: their open cases, how many are late and how many follow-ups fall due by
    the end of the day where the desk works — one grouped query for everyone — and, for supervisors,
    the open cases waiting for approval."""
    ids = list(user_ids)
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    end_of_day = now.astimezone(zone).replace(hour=23, minute=59, second=59)
    counts = {
        assignee: (open_, overdue, follow_ups)
        for assignee, open_, overdue, follow_ups in db.session.execute(
            select(
                Ticket.assignee_id,
                func.count(Ticket.id),
                func.count(case((overdue_condition(now), 1))),
                func.count(case((Ticket.follow_up_due_at <= end_of_day, 1))),
            )
            .where(Ticket.status == Status.OPEN, Ticket.assignee_id.in_(ids))
            .group_by(Ticket.assignee_id)
        )
    }
    supervisors = set(db.session.scalars(select(User.id).where(User.id.in_(ids), User.role.in_(SUPERVISING))))
    # Only open cases wait for approval; the status also lets the count use an index, not read every ticket.
    approvals = (
        db.session.scalar(
            select(func.count(Ticket.id)).where(
                Ticket.status == Status.OPEN, Ticket.resolution_state == ResolutionState.AWAITING_APPROVAL
            )
        )
        if supervisors
        else 0
    )
    digests = {}
    for user_id in ids:
        open_, overdue, follow_ups = counts.get(user_id, (0, 0, 0))
        digests[user_id] = {
            "open": open_,
            "overdue": overdue,
            "follow_ups": follow_ups,
            "approvals": approvals if user_id in supervisors else 0,
        }
    return digests


class Staged:
    """A batch's in-app notices and deliveries, written in one insert each when the batch is done."""

    def __init__(self):
        self.notices: list[dict] = []
        self.deliveries: list[dict] = []

    def write(self) -> None:
        if self.notices:
            db.session.execute(insert(Notification), self.notices)
        if self.deliveries:
            db.session.execute(insert(Delivery), self.deliveries)


def fan_out(reminder: Reminder, now: datetime, readers: Readers, staged: Staged) -> str:
    """Stage the in-app notices and one delivery per recipient and channel; the caller writes the
    staged rows and commits.

    Returns the reminder's new status: "sent" (handed out), or "skipped" when there was no way to
    reach anyone (no recipient, no address, every recipient turned this kind off)."""
    if reminder.audience == "customer":
        return _fan_out_to_customer(reminder, now, staged)
    users = recipients(reminder, readers)
    chosen = readers.channels([user.id for user in users], reminder.kind)
    handed = 0
    for user in users:
        channels = chosen.get(user.id, frozenset())
        mailed = "email" in channels and _add_delivery(
            reminder, "email", user, f"reminder-{reminder.id}-user-{user.id}", now, staged
        )
        if "in_app" in channels or (channels and not mailed):  # e-mail wanted but impossible: never lose it
            staged.notices.append(
                dict(
                    user_id=user.id,
                    reminder_id=reminder.id,
                    ticket_id=reminder.ticket_id,
                    kind=reminder.kind,
                    details=details_for(reminder, user, now, readers),
                    created_at=now,
                    read_at=None,
                )
            )
            handed += 1
        handed += mailed
    return ReminderStatus.SENT if handed else ReminderStatus.SKIPPED


def _fan_out_to_customer(reminder: Reminder, now: datetime, staged: Staged) -> str:
    customer, token = reminder.ticket.customer, f"reminder-{reminder.id}-customer"
    handed = sum(_add_delivery(reminder, name, customer, token, now, staged) for name in CHANNELS)
    return ReminderStatus.SENT if handed else ReminderStatus.SKIPPED


def _add_delivery(reminder: Reminder, channel_name: str, person, token: str, now: datetime, staged: Staged) -> int:
    """One delivery row, when the channel is set up and the person has an address on it."""
    channel = CHANNELS[channel_name]
    address = channel.address_of(person)
    if not channel.configured() or not address:
        return 0
    staged.deliveries.append(
        dict(
            reminder_id=reminder.id,
            recipient=f"user:{person.id}" if isinstance(person, User) else "customer",
            user_id=person.id if isinstance(person, User) else None,
            channel=channel_name,
            address=address,
            status=ReminderStatus.PENDING,
            attempts=0,
            run_at=now,
            claimed_by=None,
            claimed_at=None,
            sent_at=None,
            last_error=None,
            message_id=token,
            created_at=now,
        )
    )
    return 1


def outgoing(delivery: Delivery, now: datetime) -> Outgoing:
    """The message of one delivery, rendered now in its reader's language."""
    reminder = delivery.reminder
    person = delivery.user if delivery.user_id is not None else reminder.ticket.customer
    details = details_for(reminder, delivery.user, now)
    subject, body = messages.render(reminder.kind, details, person.locale)
    thread = thread_id(reminder.ticket.reference) if delivery.recipient == "customer" else None
    return Outgoing(
        address=delivery.address,
        name=person.name,
        locale=person.locale,
        subject=subject,
        body=body,
        token=delivery.message_id,
        thread=thread,
    )
