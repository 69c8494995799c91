"""Fair offers and four eyes: when compensation is in proportion to the loss, who must approve an
offer and why, and who may not approve a case they handled.

The proportion rule, stated once (the proposal and the review checklist both read it): an offer's
total (every line with an amount) may reach the customer's estimated loss times the factor of whoever
the analysis found responsible — by default twice the loss when the company was at fault, the loss
itself when the fault was shared or a third party's, half of it when the customer's own — and
always at least a small amount (100 by default: a gesture of goodwill), which is all an offer may
give when no loss is entered. Above that the offer is out of proportion: the proposer says why, and
a supervisor approves it. The factors and the amount are settings (admins only).
"""

from decimal import Decimal

from sqlalchemy import select

from ticketing.cases import on_file
from ticketing.cases.audit import Event
from ticketing.cases.records import AnalysisRecord
from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import Responsibility, Role, label_for
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l

# Why an offer waits for approval (the proposal's log event keeps the codes: "waiting_for").
WAIT_REASONS = {
    "above_limit": _l("above the proposer's own limit"),
    "second_approver": _l("a supervisor's own offer above an agent's limit: another person approves it"),
    "out_of_proportion": _l("out of proportion to the customer's loss"),
}

# What the one-person desk let someone do alone (the action's log event keeps the codes: "four_eyes_waived").
WAIVERS = {
    "self_review": _l("approved the review of a case they handled"),
    "self_approval": _l("approved compensation they proposed"),
    "second_approver": _l("gave compensation above an agent's limit without another approver"),
    "out_of_proportion": _l("gave compensation out of proportion without another approver"),
}

# The steps whose doer may not approve the case's review (four eyes).
HANDLING = ("listen", "analyse", "propose", "follow_up", "record_review")


def allowance(estimated_loss, responsibility, rules) -> Decimal:
    """The most an offer may give without a reason and an approval (see the module's rule)."""
    small = Decimal(rules.proportion_no_loss_amount)
    if estimated_loss is None:
        return small
    weighed = (Decimal(str(estimated_loss)) * Decimal(str(_factor(responsibility, rules)))).quantize(Decimal("0.01"))
    return max(weighed, small)


def _factor(responsibility, rules) -> float:
    """The factor of who was found responsible; the company's when nobody was found yet."""
    factors = rules.proportion_factors
    return factors.get(str(responsibility or ""), factors.get(Responsibility.COMPANY.value, 1))


def in_proportion(total, estimated_loss, responsibility, rules) -> bool:
    return Decimal(total) <= allowance(estimated_loss, responsibility, rules)


def responsibility_found(ticket) -> str | None:
    """Who the latest analysis of the case found responsible (None before any analysis)."""
    if (rows := on_file.kept(AnalysisRecord, ticket.id)) is not None:
        return rows[-1].responsibility if rows else None
    return db.session.scalars(
        select(AnalysisRecord.responsibility)
        .where(AnalysisRecord.ticket_id == ticket.id)
        .order_by(AnalysisRecord.id.desc())
        .limit(1)
    ).first()


def straight_limit(role, rules) -> Decimal:
    """What someone of `role` may give without another's approval: their own limit — but a
    supervisor's or an administrator's own offer only an agent's (four eyes), unless the desk is one
    person's."""
    limits = rules.compensation_limits
    own = Decimal(limits[role])
    if role == Role.AGENT or rules.one_person_desk:
        return own
    return min(own, Decimal(limits[Role.AGENT]))


def proportion_terms(ticket, rules) -> dict:
    """The rule as it applies to the case now, for the proposal form's hint."""
    responsibility = responsibility_found(ticket)
    return {
        "factor": _factor(responsibility, rules),
        "responsibility": label_for(Responsibility, responsibility) if responsibility else None,
        "no_loss": rules.proportion_no_loss_amount,
    }


def waiting_reasons(total, role, *, limits, proportionate: bool) -> list[str]:
    """Why an offer of `total` by someone of `role` needs another's approval (empty: it needs none).

    Empowerment (员工授权) up to the proposer's own limit; but a supervisor's or an administrator's
    own offer above an agent's limit needs a second person (four eyes), and so does any offer out of
    proportion to the loss."""
    reasons = []
    total = Decimal(total)
    if total > Decimal(limits[role]):
        reasons.append("above_limit")
    elif role != Role.AGENT and total > Decimal(limits[Role.AGENT]):
        reasons.append("second_approver")
    if not proportionate:
        reasons.append("out_of_proportion")
    return reasons


def handlers(ticket) -> set[int]:
    """The staff who handled the case: listened, analysed, proposed, followed up or recorded the review."""
    return set(
        db.session.scalars(
            select(Event.actor_id).where(
                Event.ticket_id == ticket.id, Event.action.in_(HANDLING), Event.actor_id.is_not(None)
            )
        )
    )


def latest_event(ticket, action: str) -> Event | None:
    """The case's latest event of `action` (None when it never happened)."""
    found, event = on_file.latest_where(Event, ticket, lambda row: row.action == action, order="seq")
    if found:
        return event
    return db.session.scalars(
        # By the case's own sequence: ordered by id, SQLite walked the whole log backwards (10 s at 1M cases).
        select(Event).where(Event.ticket_id == ticket.id, Event.action == action).order_by(Event.seq.desc()).limit(1)
    ).first()


def logged(event, name: str):
    """What an event logged as `name` (its new value), or None."""
    if event is None or name not in (event.changes or {}):
        return None
    return event.changes[name][1]


def why_waiting(ticket) -> dict:
    """Why the case's offer waits for approval, and the proposer's reason for its amount."""
    event = latest_event(ticket, "propose")
    codes = logged(event, "waiting_for") or []
    return {
        "reasons": [WAIT_REASONS.get(code, code) for code in codes],
        "justification": logged(event, "justification"),
    }


def waivers(events) -> list[tuple]:
    """(event, what the one-person desk let its actor do alone) for each event of a case that says so."""
    found = []
    for event in events:
        codes = logged(event, "four_eyes_waived")
        if codes:
            found.append((event, [WAIVERS.get(code, code) for code in codes]))
    return found


def on_review(ticket, reviewer, events) -> dict:
    """What the review page says about four eyes: whether this reviewer handled the case (so another
    approves it), and what the one-person desk let anyone do alone on it."""
    alone = desk().one_person_desk
    return {"handled": not alone and reviewer.id in handlers(ticket), "waivers": waivers(events)}
