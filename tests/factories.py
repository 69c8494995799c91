"""Helpers that walk a case through the steps with the real services."""

from datetime import timedelta

from ticketing.cases import services
from ticketing.clock import utcnow
from ticketing.extensions import db

LISTEN = dict(
    customer_words="The kettle leaks after two days.",
    restatement="You mean the new kettle leaks?",
    restatement_confirmed=True,
    expectation="A working kettle",
    emotion="upset",
    dissatisfaction="explicit",
)


ANALYSIS = dict(
    root_cause="product", detail="Faulty seal", legitimacy="justified", responsibility="company", motive="fix"
)


def open_case(
    actor, *, listen=True, priority="normal", name="Li Lei", email="li.lei@example.com", category=None, product=None
):
    customer = services.find_or_create_customer(name, email, "+86 138 0013 8000")
    ticket = services.take_complaint(
        actor,
        customer=customer,
        subject="Leaking kettle",
        description=LISTEN["customer_words"],
        channel="phone",
        priority=priority,
        category=category,
        product=product,
        listen=dict(LISTEN) if listen else None,
    )
    db.session.commit()
    return ticket


def to_step(ticket, actor, step, approver=None, amount=50):
    """Advance `ticket` with `actor` until it reaches `step` (approver for big compensation)."""
    order = ["listen", "apologise", "analyse", "resolve", "follow_up", "review"]
    while order.index(ticket.step) < order.index(step):
        current = ticket.step
        if current == "listen":
            services.record_listening(ticket, actor, version=ticket.version, **LISTEN)
        elif current == "apologise":
            services.record_apology(ticket, actor, version=ticket.version, method="phone", wording="We are sorry.")
        elif current == "analyse":
            services.record_analysis(ticket, actor, version=ticket.version, **ANALYSIS)
        elif current == "resolve":
            propose(ticket, actor, amount=amount)
            if ticket.resolution_state == "awaiting_approval":
                services.approve_compensation(ticket, approver, version=ticket.version)
            services.record_customer_answer(ticket, actor, version=ticket.version, accepted=True)
            services.carry_out_resolution(ticket, actor, version=ticket.version)
        elif current == "follow_up":
            services.record_follow_up(
                ticket,
                actor,
                version=ticket.version,
                method="phone",
                outcome="satisfied",
                satisfaction=5,
                retention="retained",
            )
        db.session.commit()
    return ticket


def propose(ticket, actor, amount=50):
    services.propose_resolution(
        ticket,
        actor,
        version=ticket.version,
        method="Replace the kettle",
        promised_date=(utcnow() + timedelta(days=3)).date(),
        currency="CNY",
        estimated_loss=amount,
        lines=[{"type": "refund", "amount": amount}, {"type": "apology_letter"}],
    )
    db.session.commit()


def unsatisfied_follow_up(ticket, actor):
    """The follow-up call finds the customer unsatisfied: the case goes back to the proposal."""
    services.record_follow_up(
        ticket,
        actor,
        version=ticket.version,
        method="phone",
        outcome="unsatisfied",
        satisfaction=2,
        retention="at_risk",
        churn_type="retaliatory",
        churn_cause="product",
        return_to="resolve",
    )
    db.session.commit()
