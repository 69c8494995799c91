"""What each step means to the customer, in plain words: where the case stands and what comes next."""

from datetime import timedelta

from ticketing.cases.settings import desk
from ticketing.cases.vocabulary import ResolutionState, Status, Step
from ticketing.clock import utcnow
from ticketing.i18n import lazy_gettext as _l

# The six steps as the progress bar names them for the customer.
STEP_NAMES = {
    Step.LISTEN: _l("Complaint received"),
    Step.APOLOGISE: _l("We contact you"),
    Step.ANALYSE: _l("Finding the cause"),
    Step.RESOLVE: _l("Our proposal"),
    Step.FOLLOW_UP: _l("Checking with you"),
    Step.REVIEW: _l("Completed"),
}
NOW = {
    Step.LISTEN: _l("We have received your complaint"),
    Step.APOLOGISE: _l("We are getting in touch with you"),
    Step.ANALYSE: _l("We are looking into what went wrong"),
    Step.RESOLVE: _l("We are preparing a fair solution"),
    Step.FOLLOW_UP: _l("We have put things right and will check with you"),
    Step.REVIEW: _l("Your case is being completed"),
}
NEXT = {
    Step.LISTEN: _l("Someone from our team will contact you to hear the whole story."),
    Step.APOLOGISE: _l("We will find out what caused the problem."),
    Step.ANALYSE: _l("We will propose how we will put it right, and by when."),
    Step.RESOLVE: _l("You will see our proposal here and can accept or reject it."),
    Step.FOLLOW_UP: _l("We will call or write to make sure the problem is really solved."),
    Step.REVIEW: _l("We record what we learned so it does not happen again."),
}


def where_it_stands(ticket) -> tuple:
    """(now, next) for the tracking page."""
    if ticket.status == Status.CLOSED:
        return _l("Your case is closed"), _l("Thank you for letting us put things right.")
    if ticket.status == Status.CANCELLED:
        return _l("Your case was closed without further action"), _l("If you think this is a mistake, contact us.")
    if ticket.step == Step.RESOLVE and ticket.resolution_state == ResolutionState.AWAITING_CUSTOMER:
        return _l("We have proposed a solution"), _l("Please tell us whether you accept it.")
    if ticket.step == Step.RESOLVE and ticket.resolution_state == ResolutionState.ACCEPTED:
        return _l("You accepted our solution"), _l("We are carrying it out and will tell you when it is done.")
    return NOW[ticket.step], NEXT[ticket.step]


def by_when(ticket):
    """(text, moment) the customer can hold us to, in every state: when we will get back to them,
    then when we aim to propose a solution (the proposal shows its own promised date), when we will
    call to check, and once closed until when they may reopen the case. None when there is no date
    to give (the review, a cancelled case)."""
    if ticket.status == Status.CLOSED and ticket.closed_at is not None:
        until = ticket.closed_at + timedelta(days=desk().reopen_days)
        return (
            (_l("If the problem comes back, you can reopen the case here until %(when)s."), until)
            if until > utcnow()
            else None
        )
    if ticket.status != Status.OPEN or ticket.step == Step.REVIEW:
        return None
    if ticket.step == Step.FOLLOW_UP:
        if ticket.follow_up_due_at is None:
            return None
        return _l("We will call you by %(when)s to make sure the problem is really solved."), ticket.follow_up_due_at
    if ticket.resolution_state in (ResolutionState.AWAITING_CUSTOMER, ResolutionState.ACCEPTED):
        return None  # the proposal's own date is shown
    if ticket.responded_at is None:
        return _l("We will get back to you by %(when)s."), ticket.response_due_at
    return _l("We aim to propose a solution by %(when)s."), ticket.resolution_due_at
