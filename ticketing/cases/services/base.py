"""The one path every change to a case takes: version check, workflow check, apply, log.

Services stage changes and never commit; the view or job that called them commits once.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from ticketing import refusals
from ticketing.cases import chain, facts_pending, workflow
from ticketing.cases.audit import new_event
from ticketing.cases.customer_notices import tell_customer
from ticketing.cases.models import Ticket
from ticketing.cases.reminders import notify_handoff, sync_reminders
from ticketing.cases.settings import desk
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.i18n import when


class StaleCase(refusals.Refusal):
    """The case changed since the user loaded it: nothing was saved.

    Who changed it and when are read when asked for: after the error handler's rollback, that is
    the case as the other writer left it, not this request's old copy. Without a ticket (a stale
    write caught only at commit) the reason says so without naming anyone.
    """

    status = refusals.CONFLICT

    def __init__(self, ticket: Ticket | None):
        super().__init__()
        self.ticket = ticket

    @property
    def changed_by(self):
        if self.ticket is None:
            return None
        return self.ticket.updated_by.name if self.ticket.updated_by else _l("the customer")

    @property
    def changed_at(self):
        return self.ticket.updated_at if self.ticket is not None else None

    @property
    def reason(self):
        if self.ticket is None:
            return _l("Someone changed this case at the same moment — reload it. Nothing was saved.")
        return _l(
            "This case was changed by %(who)s at %(when)s — reload it. Nothing was saved.",
            who=self.changed_by,
            when=when(self.changed_at),
        )

    def __str__(self) -> str:
        try:
            return f"{self.ticket.reference if self.ticket is not None else 'A case'}: {self.reason}"
        except SQLAlchemyError:  # asked before the rollback: the session cannot read yet
            return "The case was changed by someone else meanwhile (roll back to see by whom)."


class Change:
    """One action in progress on one ticket: collects (before, after) pairs for the log."""

    def __init__(
        self,
        ticket: Ticket,
        actor,
        action: str,
        data: Mapping[str, Any] | None = None,
        version: int | None = None,
        actor_name: str = "customer",
        in_place: bool = False,
        now: datetime | None = None,  # a job's or an intake's own moment; else the clock's
    ):
        rule = workflow.RULES.get(action)
        # A side action never conflicts: it does not change the case, so any version will do. Nor does
        # one written in place (a message): the service writes the few fields it moves without the
        # version check, and done() leaves the ticket to it.
        self.in_place = in_place
        if version is not None and rule is not None and not (rule.side or in_place) and int(version) != ticket.version:
            raise StaleCase(ticket)
        self.ticket, self.actor, self.action, self.actor_name = ticket, actor, action, actor_name
        self.data = dict(data or {})
        workflow.check(action, workflow.Context(ticket, actor, self.data, compensation_limits(), desk().currency))
        self.side = rule.side
        self.now: datetime = now or utcnow()
        self.changes: dict[str, tuple[Any, Any]] = {}

    def set(self, obj, **fields) -> None:
        """Set attributes on the ticket (or another object), logging the ones that change."""
        for name, value in fields.items():
            before = getattr(obj, name)
            if before != value:
                setattr(obj, name, value)
                if obj is self.ticket:
                    self.changes[name] = (before, value)

    def record(self, row, **logged) -> None:
        """Add a step record; its fields go into the log as changes from nothing: the ones given,
        and every other fact the record holds (the customer's words, the restatement, the facts
        found, the notes…), so the log reads whole in a dispute. Its links and stamps are left out."""
        db.session.add(row)
        sealed = chain.SEALED.get(row.__table__.name)
        later = sealed.mutable if sealed else frozenset()  # set by later actions, logged by them
        facts = {
            column.key: getattr(row, column.key)
            for column in row.__table__.columns
            if not (column.primary_key or column.foreign_keys or column.name in later or column.name == "created_at")
            and getattr(row, column.key) not in (None, "")
        }
        self.log(**{**facts, **logged})

    def log(self, **logged) -> None:
        """Log facts of the action that are not fields of the ticket (a reason, a file name…)."""
        for name, value in logged.items():
            self.changes[name] = (None, value)

    def done(self):
        """Move to the next step, stamp the ticket, write the log event (a side action only logs).

        Flushes at the end, so a concurrent writer who saved this case first (the database finds
        the version moved on) is a StaleCase here, with nothing kept, rather than an error at commit.
        """
        return Change.done_all([self])[0]

    @staticmethod
    def done_all(changes: list["Change"]) -> list:
        """done() for several changes at once, each on its own case (a scheduler's batch): their
        records are flushed together, their cases' chains read in one go and their facts marked in
        one statement. Each change is checked, applied and logged exactly as done() alone would."""
        try:
            for change in changes:
                if not (change.side or change.in_place):
                    ticket = change.ticket
                    change.set(ticket, step=workflow.next_step(change.action, ticket, change.data))
                    ticket.updated_at = change.now
                    ticket.updated_by_id = change.actor.id if change.actor is not None else None
            written = chain.pending_records(db.session)
            db.session.flush()  # the records' ids and defaults, for their snapshots
            events = [
                new_event(
                    change.ticket,
                    change.actor,
                    change.action,
                    change.changes,
                    change.now,
                    actor_name=change.actor_name,
                    records=chain.snapshots(written, change.ticket.id),
                )
                for change in changes
            ]
            chain.link_all(events)
            db.session.add_all(events)
            for change in changes:
                ticket = change.ticket
                if not (change.side or change.in_place):
                    sync_reminders(ticket, change.now)  # reminders follow the case in the same transaction
                    notify_handoff(ticket, change.actor, change.action, change.now, change.changes)
                tell_customer(ticket, change.actor, change.action, change.now, change.changes)
            facts_pending.touch(*(change.ticket.id for change in changes))  # the Insight facts follow
            db.session.flush()
        except StaleDataError as error:
            raise StaleCase(changes[0].ticket if len(changes) == 1 else None) from error
        return events


def compensation_limits() -> dict:
    return desk().compensation_limits
