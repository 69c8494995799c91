"""The customer's record: one service per change (update_customer, merge_customers), each checked
against the record's version and logged on its history (customer_events) in the same transaction.

Services stage changes and never commit; a rule that says no raises a Refusal.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.exc import StaleDataError

from ticketing import refusals
from ticketing.auth.models import User
from ticketing.cases import catalogue
from ticketing.cases.audit import plain
from ticketing.cases.models import Customer, Ticket
from ticketing.cases.search import documents
from ticketing.cases.services.base import Change
from ticketing.cases.services.intake import phone_digits
from ticketing.cases.winback import OPEN, WinBackAction
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.i18n import when
from ticketing.types import UTCDateTime

# What staff may correct on a record, and what a merge fills in from the duplicate when empty.
EDITABLE = ("name", "email", "phone", "external_id", "locale", "value_tier")
FILLABLE = ("email", "phone", "external_id")


class CustomerEvent(db.Model):
    """One change to a customer's record: who, when, and each changed field before and after."""

    __tablename__ = "customer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))  # update | merged_in | merged_into
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User | None] = relationship()


class StaleCustomer(refusals.Refusal):
    """The record changed since the user loaded it: nothing was saved. Who and when are read when
    asked for, after the error handler's rollback: the record as the other writer left it."""

    status = refusals.CONFLICT

    def __init__(self, customer: Customer | None):
        super().__init__()
        self.customer = customer

    @property
    def reason(self):
        customer = self.customer
        if customer is None:
            return _l("Someone changed this customer's record at the same moment — reload it. Nothing was saved.")
        return _l(
            "The record of %(name)s was changed by %(who)s at %(when)s — reload it. Nothing was saved.",
            name=customer.name,
            who=customer.updated_by.name if customer.updated_by else _l("the system"),
            when=when(customer.updated_at),
        )

    def __str__(self) -> str:
        try:
            return str(self.reason)
        except SQLAlchemyError:  # asked before the rollback: the session cannot read yet
            return "The customer's record was changed by someone else meanwhile."


NOTHING_CHANGED = _l("Nothing to save: these are the details already on the record.")


def update_customer(customer: Customer, actor: User, *, version: int, **details) -> CustomerEvent:
    """Staff correct a customer's details (EDITABLE). A stale version is refused naming who changed the
    record; an edit that changes nothing is refused and logs nothing; an e-mail, phone or external id
    another record holds is refused next to its field (the same person is merged, not copied)."""
    _lock(customer)
    _check_current(customer, version)
    _check_live(customer)
    wanted = _normalised(details, customer)
    before = {name: plain(getattr(customer, name)) for name in EDITABLE}
    changed = {name: value for name, value in wanted.items() if plain(value) != before[name]}
    if not changed:
        raise refusals.Refusal(NOTHING_CHANGED, status=refusals.UNPROCESSABLE)
    _check_unclaimed(customer, changed)
    for name, value in changed.items():
        setattr(customer, name, value)
    if "phone" in changed:
        customer.phone_digits = phone_digits(customer.phone)
    now = utcnow()
    _stamp(customer, actor, now)
    event = _log(customer, actor, "update", {name: before[name] for name in changed}, changed, now)
    _flush(customer)
    return event


def set_tier_at_intake(customer: Customer, actor: User, tier: str | None) -> None:
    """The value tier staff chose while taking a complaint (desk or API): the record takes it as an edit
    would (checked against the catalogue, on its history, so who set it shows); none chosen, or the
    record's own, leaves the record as it is."""
    if tier and tier != customer.value_tier:
        update_customer(customer, actor, version=customer.version, value_tier=tier)


def merge_customers(
    survivor: Customer, duplicate: Customer, actor: User, *, survivor_version: int, duplicate_version: int, reason: str
) -> CustomerEvent:
    """Two records of the same person become one. The survivor keeps its details and fills its empty
    ones from the duplicate; every case of the duplicate moves to the survivor (logged on each case as
    the side action `customer_merged`, so no colleague's open form goes stale), and so do its win-back
    actions; the duplicate stays, marked merged into the survivor. Both records are locked first, in id
    order, so two merges at once wait for each other and the later is refused as stale."""
    if survivor.id == duplicate.id:
        raise refusals.Refusal(merge_refusal(survivor, duplicate))
    _lock(survivor, duplicate)
    _check_current(survivor, survivor_version)
    _check_current(duplicate, duplicate_version)
    _check_mergeable(survivor, duplicate, reason)
    now, reason = utcnow(), reason.strip()
    references = _move_cases(duplicate, survivor, actor, reason, now)
    db.session.execute(
        update(WinBackAction).where(WinBackAction.customer_id == duplicate.id).values(customer_id=survivor.id)
    )
    # Records merged into the duplicate earlier now point at the survivor: one hop to the person.
    db.session.execute(
        update(Customer)
        .where(Customer.merged_into_id == duplicate.id)
        .values(merged_into_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    filled = _fill_from(survivor, duplicate)
    duplicate.merged_into_id = survivor.id
    _stamp(duplicate, actor, now)
    _stamp(survivor, actor, now)
    moved = {"cases": references, "reason": reason}
    _log(duplicate, actor, "merged_into", {"merged_into": None}, {"merged_into": survivor.id, **moved}, now)
    event = _log(
        survivor, actor, "merged_in", dict.fromkeys(filled), {**filled, "merged_from": duplicate.id, **moved}, now
    )
    _flush(survivor)
    db.session.expire(survivor, ["tickets"])
    db.session.expire(duplicate, ["tickets"])
    return event


def _check_live(customer: Customer) -> None:
    if customer.merged_into_id is not None:
        raise refusals.Refusal(
            _l("This record was merged into the record of %(name)s: change that one.", name=customer.merged_into.name)
        )


def merge_refusal(survivor: Customer, duplicate: Customer):
    """Why `duplicate` cannot be merged into `survivor` now, or None (the confirmation page asks too)."""
    if survivor.id == duplicate.id:
        return _l("A customer record cannot be merged into itself.")
    if duplicate.merged_into_id is not None:
        return _l("%(name)s's record is already merged into another record.", name=duplicate.name)
    if survivor.merged_into_id is not None:
        return _l(
            "%(name)s's record was itself merged into another record: merge into that one instead.", name=survivor.name
        )
    open_actions = db.session.scalar(
        select(db.func.count(WinBackAction.id)).where(
            WinBackAction.customer_id.in_((survivor.id, duplicate.id)), WinBackAction.status == OPEN
        )
    )
    if open_actions > 1:
        return _l("Both records have an open win-back action: close one of them before merging the records.")
    return None


def _check_mergeable(survivor: Customer, duplicate: Customer, reason: str) -> None:
    refused = merge_refusal(survivor, duplicate)
    if refused is not None:
        raise refusals.Refusal(refused)
    if not (reason or "").strip():
        raise refusals.Refusal(_l("Please give a reason."), status=refusals.UNPROCESSABLE, field="reason")


def _move_cases(duplicate: Customer, survivor: Customer, actor: User, reason: str, now: datetime) -> list[str]:
    """Each case of the duplicate logs its move; then one UPDATE moves them all without touching their
    versions (an ORM write would bump each case's version), and their search documents are written
    again, now with the survivor's name and contacts (an UPDATE is no flush the index would see)."""
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.customer_id == duplicate.id).order_by(Ticket.id)))
    for ticket in tickets:
        change = Change(ticket, actor, "customer_merged", now=now)
        change.changes["customer"] = (duplicate.id, survivor.id)
        change.log(reason=reason)
        change.done()
    db.session.execute(
        update(Ticket)
        .where(Ticket.customer_id == duplicate.id)
        .values(customer_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    documents.write(db.session.connection(), ticket_ids=[ticket.id for ticket in tickets])
    for ticket in tickets:
        db.session.expire(ticket, ["customer_id", "customer"])
    return [ticket.reference for ticket in tickets]


def _fill_from(survivor: Customer, duplicate: Customer) -> dict:
    """The survivor's empty FILLABLE fields, taken from the duplicate. An external id is unique, so it
    leaves the duplicate before the survivor takes it."""
    filled = {
        name: getattr(duplicate, name) for name in FILLABLE if not getattr(survivor, name) and getattr(duplicate, name)
    }
    if "external_id" in filled:
        duplicate.external_id = None
        db.session.flush()
    for name, value in filled.items():
        setattr(survivor, name, value)
    if "phone" in filled:
        survivor.phone_digits = duplicate.phone_digits or phone_digits(survivor.phone)
    return filled


def _normalised(details: dict, customer: Customer) -> dict:
    """The details as the record keeps them: trimmed, e-mail in lower case, empty as None; the tier one
    of the catalogue's (its record's own even when retired)."""
    wanted = {name: (details[name] or "").strip() or None for name in EDITABLE if name in details}
    if wanted.get("email"):
        wanted["email"] = wanted["email"].lower()
    if "value_tier" in wanted:
        wanted["value_tier"] = catalogue.check_tier(wanted["value_tier"], current=customer.value_tier)
    if "locale" in wanted:
        wanted["locale"] = wanted["locale"] or "en"
    if "name" in wanted and not wanted["name"]:
        raise refusals.Refusal(_l("Give the customer's name."), status=refusals.UNPROCESSABLE, field="name")
    return wanted


def _claimed(field: str, other: Customer):
    """Why `field` cannot take a value `other`'s record holds (the same person is merged, not copied)."""
    who = {"name": other.name, "id": other.id}
    if field == "email":
        return _l(
            "%(name)s (#%(id)d) already has this e-mail; if it is the same person, merge the two records.",
            **who,
        )
    if field == "phone":
        return _l(
            "%(name)s (#%(id)d) already has this phone number; if it is the same person, merge the two records.",
            **who,
        )
    return _l("%(name)s (#%(id)d) already has this external id.", **who)


def _check_unclaimed(customer: Customer, changed: dict) -> None:
    """An e-mail, phone number or external id names one person: refused when another live record has it."""
    columns = {
        "email": (Customer.email, changed.get("email")),
        "phone": (Customer.phone_digits, phone_digits(changed.get("phone"))),
        "external_id": (Customer.external_id, changed.get("external_id")),
    }
    for name, (column, value) in columns.items():
        if name not in changed or value is None:
            continue
        other = db.session.scalars(
            select(Customer).where(column == value, Customer.id != customer.id, Customer.merged_into_id.is_(None))
        ).first()
        if other is not None:
            raise refusals.Refusal(_claimed(name, other), status=refusals.CONFLICT, field=name)


def _lock(*customers: Customer) -> None:
    """Serialise writers of these records, then read them again so the version check sees the last
    writer's: PostgreSQL locks the rows in id order (two merges of one pair never deadlock); SQLite
    takes its one write lock (an UPDATE matching no row) before reading."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE customers SET version = version WHERE 0"))
    ids = sorted(customer.id for customer in customers)
    query = select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id).with_for_update()
    list(db.session.scalars(query.execution_options(populate_existing=True)))


def _check_current(customer: Customer, version) -> None:
    if version is None or int(version) != customer.version:
        raise StaleCustomer(customer)


def _stamp(customer: Customer, actor: User | None, now: datetime) -> None:
    customer.updated_at = now
    customer.updated_by_id = actor.id if actor is not None else None


def _log(customer: Customer, actor, action: str, before: dict, after: dict, now: datetime) -> CustomerEvent:
    event = CustomerEvent(
        customer_id=customer.id,
        actor_id=actor.id if actor is not None else None,
        action=action,
        before={name: plain(value) for name, value in before.items()},
        after={name: plain(value) for name, value in after.items()},
        created_at=now,
    )
    db.session.add(event)
    return event


def _flush(customer: Customer) -> None:
    """Write now, so a clash the checks could not see (a writer that got in first) is a refusal."""
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleCustomer(None) from error
    except IntegrityError as error:  # another record took the same external id at the same moment
        raise refusals.Refusal(
            _l("Another record took this external id at the same moment."), field="external_id"
        ) from error
