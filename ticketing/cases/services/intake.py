"""Taking a complaint in: find or create the customer, open the case, record step 1."""

import re

from sqlalchemy import case, or_, select, update
from sqlalchemy.exc import IntegrityError

from ticketing.cases import catalogue
from ticketing.cases.deadlines import deadlines
from ticketing.cases.models import Customer, ReferenceCounter, Ticket
from ticketing.cases.reminders import sync_reminders
from ticketing.cases.services.base import Change
from ticketing.cases.services.steps import record_listening
from ticketing.cases.vocabulary import PRIORITY_RANK, Priority, Step
from ticketing.clock import utcnow
from ticketing.extensions import db

CHINA = "86"


def phone_digits(phone: str | None) -> str | None:
    """The number as dialled inside China, digits only, so "+86 138 0013 8000", "0086 13800138000"
    and "138-0013-8000" find the same customer (as do "+86 10 1234 5678" and "010-1234-5678").
    Other countries' numbers keep their country code."""
    raw = (phone or "").strip()
    digits = re.sub(r"\D", "", raw)
    international = raw.startswith("+") or digits.startswith("00")
    digits = digits[2:] if digits.startswith("00") else digits
    national = digits[2:].lstrip("0") if digits.startswith(CHINA) else ""
    if national and (international or (len(digits) == 13 and digits[2] == "1")):
        mobile = len(national) == 11 and national.startswith("1")
        digits = national if mobile else "0" + national  # landlines take the trunk 0 at home
    return digits or None


def find_customers(query: str, limit: int = 8) -> list[Customer]:
    """Customers whose email or phone matches what the agent typed (exact, case-insensitive)."""
    query = (query or "").strip()
    if not query:
        return []
    conditions = [db.func.lower(Customer.email) == query.lower()]
    digits = phone_digits(query)
    if digits and len(digits) >= 5:
        conditions.append(Customer.phone_digits == digits)
    return list(db.session.scalars(select(Customer).where(or_(*conditions)).limit(limit)))


def find_or_create_customer(
    name: str, email: str | None, phone: str | None, customer_id: int | None = None, **extra
) -> Customer:
    """The same person calling again must land on the same customer record.

    `customer_id` is the record the agent picked from the look-up; it wins when it exists.
    """
    email = (email or "").strip().lower() or None
    digits = phone_digits(phone)
    customer = db.session.get(Customer, customer_id) if customer_id else None
    if customer is None and (email or digits):
        customer = _known_customer(email, digits)
    while customer is not None and customer.merged_into_id is not None:  # a merged record: the person's own
        customer = customer.merged_into
    if customer is None:
        customer = Customer(
            name=name.strip(),
            email=email,
            phone=(phone or "").strip() or None,
            phone_digits=digits,
            **{k: v for k, v in extra.items() if v},
        )
        db.session.add(customer)
        db.session.flush()
        return customer
    # Fill what we did not know; never overwrite what the customer told us before.
    if email and not customer.email:
        customer.email = email
    if digits and not customer.phone_digits:
        customer.phone, customer.phone_digits = phone.strip(), digits
    return customer


def _known_customer(email: str | None, digits: str | None) -> Customer | None:
    """The customer with this email, else the one with this phone (the oldest of several): one query."""
    conditions = ([Customer.email == email] if email else []) + ([Customer.phone_digits == digits] if digits else [])
    order = [case((Customer.email == email, 0), else_=1)] if email else []
    query = select(Customer).where(or_(*conditions)).order_by(*order, Customer.id).limit(1)
    return db.session.scalars(query).first()


def next_reference(year: int) -> str:
    """C-2026-000123: numbered per year, safe under concurrent intake on PostgreSQL."""
    bump = (
        update(ReferenceCounter)
        .where(ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    )
    number = db.session.execute(bump).scalar()
    if number is None:
        try:
            with db.session.begin_nested():
                db.session.add(ReferenceCounter(year=year, last=1))
            number = 1
        except IntegrityError:  # another intake created this year's counter first
            number = db.session.execute(bump).scalar()
    return f"C-{year}-{number:06d}"


def take_complaint(
    actor,
    *,
    customer: Customer,
    subject: str,
    description: str,
    channel: str,
    category: str | None = None,
    product: str | None = None,
    priority: str = Priority.NORMAL,
    listen: dict | None = None,
    customer_expectation: str | None = None,
    assign: bool = True,
) -> Ticket:
    """Open a case for `customer`; with `listen` data, step 1 is recorded at once.

    Whoever takes the call owns the case until reassigned; `actor` None means the customer
    (the portal), and `assign=False` an integration (the API): the case lands unassigned in
    the team queue. The category must be an active one of the catalogue. The product is kept as
    typed and linked to the catalogue's product it names; staff and integrations add a product
    the catalogue lacks, a customer's words are linked only to a product that exists.
    """
    owner = actor if assign else None
    category = catalogue.check_category(category)
    named = catalogue.product_for(product, create=actor is not None, actor=actor)
    now = utcnow()
    response_due, resolution_due = deadlines(priority, now, category or None)
    ticket = Ticket(
        reference=next_reference(now.year),
        customer=customer,
        subject=subject.strip(),
        description=description.strip(),
        channel=channel,
        category=category or None,
        product=(product or "").strip() or None,
        product_id=named.id if named is not None else None,
        priority=priority,
        customer_expectation=(customer_expectation or "").strip() or None,
        priority_rank=PRIORITY_RANK[Priority(priority)],
        step=Step.LISTEN,
        assignee_id=owner.id if owner is not None else None,
        created_by_id=actor.id if actor else None,
        updated_by_id=actor.id if actor else None,
        created_at=now,
        updated_at=now,
        response_due_at=response_due,
        resolution_due_at=resolution_due,
    )
    db.session.add(ticket)
    db.session.flush()
    change = Change(ticket, actor, "create", now=now)
    change.log(
        reference=ticket.reference,
        customer=customer.name,
        subject=ticket.subject,
        channel=channel,
        priority=priority,
        category=category,
        product=ticket.product,
        assignee=ticket.assignee_id and owner.email,
    )
    change.done()
    sync_reminders(ticket, now)  # the response clock runs from intake, even before step 1 is recorded
    if listen:
        record_listening(ticket, actor, version=None, **listen)
    return ticket
