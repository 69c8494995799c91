"""A case's rows as the request has read them.

The case file reads each step's records and the case's log once (case_file.py). The questions asked
of the same case while its page is put together — the latest follow-up, review or analysis, the
latest escalation, the latest proposal event — are then answered from those rows instead of asking
the database again. Anywhere else (a service, a job) each question asks the database itself.

What is kept is forgotten at every flush and at the end of every transaction (commit, rollback,
close): an answer never misses a row the request wrote, and never holds one it undid. A question
asked with changes pending flushes them first, as the query it stands for would have.
"""

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ticketing.extensions import db

KEPT = "case_rows"


def keep(model, ticket_id: int, rows: list) -> list:
    """Remember the case's rows of `model` (all of them, oldest first) for the rest of the transaction."""
    db.session.info.setdefault(KEPT, {})[model, ticket_id] = rows
    return rows


def kept(model, ticket_id: int) -> list | None:
    """The case's rows of `model` as read by keep(), or None when they were not read (or are out of date)."""
    session = db.session
    if KEPT not in session.info:
        return None
    if session.autoflush:
        session.flush()  # what the query would have done first; a flush forgets what was kept
    return session.info.get(KEPT, {}).get((model, ticket_id))


def latest(model, ticket):
    """The case's latest row of `model` (None when there is none)."""
    rows = kept(model, ticket.id)
    if rows is not None:
        return rows[-1] if rows else None
    return db.session.scalars(
        select(model).where(model.ticket_id == ticket.id).order_by(model.id.desc()).limit(1)
    ).first()


def latest_where(model, ticket, test, order: str = "id"):
    """The latest (by `order`) of the kept rows that pass `test`, as (True, row or None); (False, None)
    when the case's rows of `model` were not kept, so the caller asks the database its own way."""
    rows = kept(model, ticket.id)
    if rows is None:
        return False, None
    return True, max((row for row in rows if test(row)), key=lambda row: getattr(row, order), default=None)


@event.listens_for(Session, "after_flush")
def _forget_after_flush(session, _context) -> None:
    session.info.pop(KEPT, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_transaction(session, _transaction) -> None:
    session.info.pop(KEPT, None)
