"""Cases whose Insight facts (cases/facts.py) must be written again: one mark per change, made by
Change.done() in the change's own transaction, removed when the facts are caught up."""

from datetime import datetime

from sqlalchemy import Integer, insert
from sqlalchemy.orm import Mapped, mapped_column

from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.types import UTCDateTime


class CaseFactsPending(db.Model):
    """A case whose facts must be written again (one row per change; removed when caught up)."""

    __tablename__ = "case_facts_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


def touch(*ticket_ids: int) -> None:
    """Mark cases' facts to be written again, stamped with the clock's time (not a job's own
    moment): the dashboard's "as of" is a wall-clock time. One statement for them all."""
    if ticket_ids:
        now = utcnow()
        db.session.execute(
            insert(CaseFactsPending.__table__), [{"ticket_id": ticket_id, "marked_at": now} for ticket_id in ticket_ids]
        )
