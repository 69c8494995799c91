"""Re-triage: what a case is about and how urgent it is, corrected while it is handled — and the
running deadlines timed again by the new priority (escalation uses the same retiming)."""

from datetime import datetime, timedelta

from ticketing import validation
from ticketing.cases import catalogue
from ticketing.cases.deadlines import resolution_deadline, resolution_offered, response_deadline
from ticketing.cases.queries import case_events
from ticketing.cases.services.base import Change
from ticketing.cases.vocabulary import PRIORITY_RANK, Priority
from ticketing.cases.workflow import WorkflowError
from ticketing.i18n import lazy_gettext as _l

SUBJECT_LENGTH, PRODUCT_LENGTH = 200, 120  # the columns' sizes, as intake's forms and the API state them

# Actions that move a running clock to a new pace without restarting it; the customer's rejection
# credits the time they took to consider a proposal (services.resolution.record_customer_answer).
RETIMINGS = frozenset({"triage", "escalate", "auto_escalate", "recompute_deadlines"})
CREDITS = frozenset({"customer_rejects"})


def triage_case(ticket, actor, *, version, category=None, priority=None, product=None, subject=None):
    """Staff who work the case (or a supervisor) correct its category, priority, product or subject,
    from intake to review; each change is logged old → new. None leaves a field as it is; an empty
    category or product clears it. Refused when nothing would change or a value is not acceptable
    (the subject is one line, as at intake). A new priority or category times the running deadlines
    again (recompute_deadlines)."""
    wanted = _given(category=category, priority=priority, product=product, subject=subject)
    change = Change(ticket, actor, "triage", wanted, version=version)
    _check(wanted, ticket)
    if "priority" in wanted:
        set_priority(change, wanted.pop("priority"))
    change.set(ticket, **wanted)
    if "product" in change.changes:  # the log names the text; the case counts for the product it names
        named = catalogue.product_for(ticket.product, create=True, actor=actor)
        ticket.product_id = named.id if named is not None else None
    if {"priority", "category"} & set(change.changes):
        recompute_deadlines(change)
    return change.done()


def _given(**fields) -> dict:
    """The fields asked for, trimmed; an empty category or product means none."""
    given = {name: value.strip() if isinstance(value, str) else value for name, value in fields.items()}
    given = {name: value for name, value in given.items() if value is not None}
    for name in ("category", "product"):
        if given.get(name) == "":
            given[name] = None
    return given


def known_category(value, current: str | None = None) -> bool:
    """Whether `value` names a category staff may choose (None: not categorised): an active one of the
    catalogue, or the case's `current` one (a retired category stays on the cases that have it)."""
    return value is None or value == current or catalogue.category_exists(value)


def _check(wanted: dict, ticket) -> None:
    if "priority" in wanted and wanted["priority"] not in {priority.value for priority in Priority}:
        raise WorkflowError(_l("Choose a priority from the list."), "priority")
    if "category" in wanted and not known_category(wanted["category"], ticket.category):
        raise WorkflowError(_l("Choose a category from the list."), "category")
    if "subject" in wanted:
        if not wanted["subject"]:
            raise WorkflowError(_l("Give the case a subject."), "subject")
        if not _one_line(wanted["subject"], SUBJECT_LENGTH):
            raise WorkflowError(_l("The subject must fit on one line of at most 200 characters."), "subject")
    if wanted.get("product") is not None and not _one_line(wanted["product"], PRODUCT_LENGTH):
        raise WorkflowError(_l("The product must fit on one line of at most 120 characters."), "product")


def _one_line(value: str, length: int) -> bool:
    return len(value) <= length and not validation.has_unstorable_characters(value, multiline=False)


def set_priority(change, priority) -> None:
    """The priority and the rank the queues sort by, together (the log names the priority only)."""
    change.set(change.ticket, priority=Priority(priority))
    change.ticket.priority_rank = PRIORITY_RANK[Priority(priority)]


def recompute_deadlines(change) -> None:
    """Time the running deadlines again by the case's priority and category now, by the calendar.

    - Only running clocks move: the first response until it is given, the resolution until a
      proposal has reached the customer (a paused clock — the customer considering a proposal — is
      not running: it is already met, and a rejection later credits the pause as it always does).
    - Each clock counts from its own start, not from this moment: the case's creation, or the last
      time the clock was started again (the customer writing again restarts the response clock; a
      reopening or a case sent back for a new proposal restarts the resolution clock). The record
      log says when: the latest event that set the deadline, other than a retiming or a credit.
    - Time credited to the case since that start stays credited: each rejection of a proposal added
      the time the customer took (wall time, as record_customer_answer adds it).
    - A deadline already missed that would still be missed keeps its time: it was missed then, and
      its breach was announced once (timing it earlier would only announce it again).
    """
    ticket, events = change.ticket, case_events(change.ticket)
    if ticket.responded_at is None:
        start, credit = _clock_start(ticket, events, "response_due_at")
        _move(change, "response_due_at", response_deadline(ticket, start) + credit)
    if not resolution_offered(ticket):
        start, credit = _clock_start(ticket, events, "resolution_due_at")
        _move(change, "resolution_due_at", resolution_deadline(ticket, start) + credit)


def _clock_start(ticket, events, due_field: str) -> tuple[datetime, timedelta]:
    """(when the clock of `due_field` last started, the time credited to it since)."""
    start, credit = ticket.created_at, timedelta(0)
    for event in events:
        if due_field not in (event.changes or {}) or event.action in RETIMINGS:
            continue
        if event.action in CREDITS:
            before, after = (datetime.fromisoformat(value) for value in event.changes[due_field])
            credit += after - before
        else:
            start, credit = event.created_at, timedelta(0)
    return start, credit


def _move(change, due_field: str, due: datetime) -> None:
    current = getattr(change.ticket, due_field)
    if current <= change.now and due <= change.now:
        return
    change.set(change.ticket, **{due_field: due})
