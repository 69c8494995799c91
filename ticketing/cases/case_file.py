"""What is on file for a case, gathered for the pages that show it (the desk's case page, review)."""

from sqlalchemy import select

from ticketing.cases import on_file
from ticketing.cases.attachments import Attachment
from ticketing.cases.audit import Event
from ticketing.cases.log_text import describe
from ticketing.cases.models import Message, Note, Ticket
from ticketing.cases.queries import case_events
from ticketing.cases.records import RECORDS
from ticketing.cases.vocabulary import STEP_ORDER
from ticketing.extensions import db


def case_file(ticket: Ticket) -> dict:
    """What is on file for a case: each step's records, what was said and attached, and its history in words.

    The records and the log are kept for the rest of the request (on_file.py): what the page asks of
    them next (the latest follow-up, the latest escalation…) is answered without reading them again."""
    records = {step: on_file.keep(model, ticket.id, _rows(model, ticket)) for step, model in RECORDS.items()}
    return {
        "ticket": ticket,
        "steps": STEP_ORDER,
        "records": records,
        "resolution": records["resolve"][-1] if records["resolve"] else None,
        "notes": _rows(Note, ticket),
        "messages": _rows(Message, ticket),
        "files": _rows(Attachment, ticket),
        "timeline": [describe(event) for event in on_file.keep(Event, ticket.id, case_events(ticket))],
    }


def _rows(model, ticket: Ticket) -> list:
    return list(db.session.scalars(select(model).where(model.ticket_id == ticket.id).order_by(model.id)))
