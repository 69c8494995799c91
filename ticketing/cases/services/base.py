"""The one path every change to a case takes: version check, workflow check, apply, log.

Services stage changes and never commit; the view or job that called them commits once.
"""
from datetime import datetime
from typing import Any, Mapping

from flask import current_app
from flask_babel import lazy_gettext as _l

from ticketing.cases import workflow
from ticketing.cases.audit import record_event
from ticketing.cases.models import Ticket
from ticketing.extensions import db
from ticketing.clock import utcnow
from ticketing.cases.reminders import sync_reminders


class StaleCase(Exception):
    """The case changed since the user loaded it: nothing was saved."""

    def __init__(self, ticket: Ticket):
        self.changed_by = ticket.updated_by.name if ticket.updated_by else _l("the customer")
        self.changed_at = ticket.updated_at
        super().__init__(f"{ticket.reference} changed by {self.changed_by} at {self.changed_at}")


class Change:
    """One action in progress on one ticket: collects (before, after) pairs for the log."""

    def __init__(self, ticket: Ticket, actor, action: str, data: Mapping[str, Any] | None = None,
                 version: int | None = None, actor_name: str = "customer"):
        rule = workflow.RULES.get(action)
        # A side action never conflicts: it does not change the case, so any version will do.
        if version is not None and rule is not None and not rule.side and int(version) != ticket.version:
            raise StaleCase(ticket)
        self.ticket, self.actor, self.action, self.actor_name = ticket, actor, action, actor_name
        self.data = dict(data or {})
        workflow.check(action, workflow.Context(ticket, actor, self.data, compensation_limits()))
        self.side = rule.side
        self.now: datetime = utcnow()
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
        """Add a step record; its fields go into the log as changes from nothing."""
        db.session.add(row)
        self.log(**logged)

    def log(self, **logged) -> None:
        """Log facts of the action that are not fields of the ticket (a reason, a file name…)."""
        for name, value in logged.items():
            self.changes[name] = (None, value)

    def done(self):
        """Move to the next step, stamp the ticket, write the log event (a side action only logs)."""
        ticket = self.ticket
        if not self.side:
            self.set(ticket, step=workflow.next_step(self.action, ticket, self.data))
            ticket.updated_at = self.now
            ticket.updated_by_id = self.actor.id if self.actor is not None else None
        event = record_event(ticket, self.actor, self.action, self.changes, self.now, actor_name=self.actor_name)
        if not self.side:
            sync_reminders(ticket, self.now)  # reminders follow the case in the same transaction
        return event


def compensation_limits() -> dict:
    return current_app.config["COMPENSATION_LIMITS"]


