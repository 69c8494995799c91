"""Customer portal: submit a complaint, open the private link, follow the case, write to us."""

import hmac
import time
from datetime import datetime, timedelta, timezone
from functools import wraps

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask_babel import get_locale
from sqlalchemy import select

from ticketing import refusals
from ticketing.cases import services
from ticketing.cases.attachments import Attachment, path_of, save_attachments
from ticketing.cases.models import Message, Ticket
from ticketing.cases.portal_access import (
    case_still_open_to_links,
    issue_token,
    link_ends_at,
    link_still_opens,
    ticket_for_token,
)
from ticketing.cases.queries import find_ticket
from ticketing.cases.reminders import send_portal_link
from ticketing.cases.settings import desk
from ticketing.cases.survey import answer_survey, survey_due
from ticketing.cases.vocabulary import Channel, ResolutionState, Status
from ticketing.clock import utcnow
from ticketing.extensions import db, limiter
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l
from ticketing.portal.forms import (
    AnswerForm,
    ComplaintForm,
    LostLinkForm,
    MessageForm,
    ReopenForm,
    SurveyForm,
)
from ticketing.portal.labels import STEP_NAMES, by_when, where_it_stands

bp = Blueprint("portal", __name__)
PORTAL_PATHS = ("/complain", "/track")  # where customers are: errors there get the portal's own page
SESSION_KEY = "portal_ticket_id"
# The token of the link that opened the session: the session lasts while that link works, and the page
# offers it to copy. Kept only in the customer's own signed cookie (they hold the link already).
TOKEN_KEY = "portal_token"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})  # shown as thumbnails


@bp.after_request
def no_referrer(response):
    """A tracking URL must never leak to another site through the Referer header."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def with_case(view):
    """Routes of the private case: the session opened by the link, else the same 404 as a bad link."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        ticket = _session_ticket()
        if ticket is None:
            return render_template("portal/not_found.html"), 404
        return view(ticket, *args, **kwargs)

    return wrapped


@bp.route("/complain", methods=["GET", "POST"])
# Only complaints taken count: someone correcting a refused form is never locked out with their text lost.
@limiter.limit(
    lambda: current_app.config["PORTAL_RATE_LIMIT"],
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 302,
)
def complain():
    form = ComplaintForm()
    if form.validate_on_submit():
        if form.website.data:  # the honeypot: answer as if accepted, keep nothing
            return redirect(url_for("portal.received"))
        ticket = _take(form)
        save_attachments(ticket, form.attachments.data or [])
        ticket_id, token = ticket.id, issue_token(ticket)  # the id kept: not read back after the commit
        db.session.commit()
        session[SESSION_KEY], session[TOKEN_KEY] = ticket_id, token
        session["portal_new_link"] = url_for("portal.open_link", token=token, _external=True)
        return redirect(url_for("portal.received"))
    return render_template("portal/complain.html", form=form), 422 if form.errors else 200


@bp.errorhandler(429)
def too_many_requests(error):
    """Over the rate limit, a complaint comes back with everything typed and when it can be sent again;
    the portal's other pages answer with its own 429 page."""
    db.session.rollback()
    if request.endpoint != "portal.complain":
        return render_template("portal/error.html", status=429), 429
    files_dropped = any(upload.filename for upload in request.files.getlist("attachments"))
    return render_template(
        "portal/complain.html", form=ComplaintForm(), retry_at=_retry_at(), files_dropped=files_dropped
    ), 429


def _retry_at() -> datetime | None:
    limit = limiter.current_limit
    return datetime.fromtimestamp(limit.reset_at, timezone.utc) if limit is not None else None


def _take(form):
    locale = "zh_CN" if get_locale().language == "zh" else "en"
    customer = services.find_or_create_customer(form.name.data, form.email.data, form.phone.data, locale=locale)
    subject = (form.product.data or form.what_happened.data).strip().splitlines()[0][:120]
    return services.take_complaint(
        None,
        customer=customer,
        subject=subject,
        description=form.what_happened.data,
        channel=Channel.WEB,
        product=form.product.data,
        customer_expectation=form.wish.data,
    )


@bp.route("/track/lost", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PORTAL_RATE_LIMIT"], methods=["POST"])
def lost_link():
    """Reference + email → the link by e-mail. The answer is the same whether or not they match, and
    takes as long: never before LOST_LINK_ANSWER_SECONDS (a match schedules the e-mail, which a
    stopwatch could otherwise tell from no match)."""
    started = time.monotonic()
    form = LostLinkForm()
    if form.validate_on_submit():
        ticket = find_ticket(form.reference.data)
        matches = (
            ticket is not None
            and ticket.customer.email
            and hmac.compare_digest(ticket.customer.email.lower(), form.email.data.strip().lower())
        )
        if matches:
            send_portal_link(ticket, utcnow())
        db.session.commit()
        page = render_template("portal/lost.html", form=None, sent=True)
        time.sleep(max(0.0, started + current_app.config["LOST_LINK_ANSWER_SECONDS"] - time.monotonic()))
        return page
    return render_template("portal/lost.html", form=form, sent=False), 422 if form.errors else 200


@bp.route("/complain/received")
def received():
    """Shown once after submitting: the reference and the private link to keep."""
    link = session.pop("portal_new_link", None)
    ticket = _session_ticket()
    return render_template("portal/received.html", link=link, ticket=ticket)


@bp.route("/track/<token>")
def open_link(token):
    """Exchange the token for a session, then continue on an address without it."""
    ticket = ticket_for_token(token)
    if ticket is None:
        return render_template("portal/not_found.html"), 404
    db.session.commit()
    session.clear()
    session[SESSION_KEY], session[TOKEN_KEY] = ticket.id, token
    session["locale"] = ticket.customer.locale  # the case speaks the customer's language
    return redirect(url_for("portal.track"))


@bp.route("/track", methods=["GET", "POST"])
@with_case
def track(ticket):
    form = MessageForm()
    if form.validate_on_submit() and ticket.status == Status.OPEN:
        refusals.reshow(lambda error: _track_page(ticket, form=form), form=form)
        services.send_message(ticket, None, body=form.body.data)
        message = db.session.scalars(
            select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id.desc())
        ).first()
        save_attachments(ticket, form.attachments.data or [], message)
        db.session.commit()
        return redirect(url_for("portal.track"))
    return _track_page(ticket, form=form), 422 if form.errors else 200


@bp.route("/track/attachments/<int:attachment_id>")
@with_case
def attachment(ticket, attachment_id):
    """A file of the customer's own case, as a download; anything else is a plain 404."""
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.ticket_id != ticket.id:
        return render_template("portal/not_found.html"), 404
    return send_file(path_of(row), mimetype=row.content_type, as_attachment=True, download_name=row.original_name)


@bp.route("/track/answer", methods=["POST"])
@with_case
def answer(ticket):
    """The customer accepts or rejects the proposed resolution (the workflow moves the case)."""
    form = AnswerForm()
    if form.validate_on_submit():
        refusals.reshow(
            lambda error: _track_page(ticket, answer_form=_seen_now(form, ticket, error)),
            form=form,
            wording=CUSTOMER_WORDING,
        )
        accepted = form.answer.data == "accept"
        services.record_customer_answer(
            ticket, None, version=form.version.data, accepted=accepted, reason=form.reason.data
        )
        db.session.commit()
        if accepted:
            flash(
                _("Thank you: you accepted our proposal. We are carrying it out and will tell you when it is done."),
                "success",
            )
        else:
            flash(
                _(
                    "We have your answer: you rejected our proposal, saying “%(reason)s”. "
                    "We will look at it again and come back to you with a new one.",
                    reason=form.reason.data,
                ),
                "success",
            )
        return redirect(url_for("portal.track"))
    return _track_page(ticket, answer_form=form), 422


@bp.route("/track/survey", methods=["POST"])
@with_case
def survey(ticket):
    form = SurveyForm()
    if form.validate_on_submit():
        refusals.reshow(lambda error: _track_page(ticket, survey_form=form), form=form)
        answer_survey(ticket, **{name: form[name].data for name in SURVEY_FIELDS})
        db.session.commit()
        flash(
            _("Thank you: we have your answers. They help us do better, for you and for others."),
            "success",
        )
        return redirect(url_for("portal.track"))
    return _track_page(ticket, survey_form=form), 422


@bp.route("/track/reopen", methods=["POST"])
@with_case
def reopen(ticket):
    """The problem is back: within REOPEN_DAYS of closing, the customer reopens the case."""
    form = ReopenForm()
    if form.validate_on_submit():
        refusals.reshow(
            lambda error: _track_page(ticket, reopen_form=_seen_now(form, ticket, error)),
            form=form,
            wording=CUSTOMER_WORDING,
        )
        services.customer_reopens(ticket, version=form.version.data, reason=form.reason.data)
        db.session.commit()
        flash(_("Your case is open again; we will contact you."), "success")
        return redirect(url_for("portal.track"))
    return _track_page(ticket, reopen_form=form), 422


# A customer is not told which member of staff changed the case, only that it changed.
CUSTOMER_WORDING = {services.StaleCase: _l("Your case changed meanwhile; please look at it again.")}


def _seen_now(form, ticket, error):
    """A stale answer shows the case as it is now (what they typed is kept); sending again is deliberate."""
    if isinstance(error, services.StaleCase):
        form.version.data = ticket.version  # read fresh: the rollback expired this copy
    return form


SURVEY_FIELDS = ("satisfaction", "recommend", "buy_again", "fair_outcome", "fair_process", "fair_treatment", "comment")


def _track_page(ticket, form=None, answer_form=None, survey_form=None, reopen_form=None):
    """Everything the customer may see — never internal notes or the analysis."""
    messages = list(db.session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)))
    files = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id))
    files_of: dict[int | None, list[Attachment]] = {}
    for row in files:  # each file under the message it came with; None: sent with the complaint itself
        files_of.setdefault(row.message_id, []).append(row)
    now, next_step = where_it_stands(ticket)
    proposal = None
    if ticket.resolution_state == ResolutionState.AWAITING_CUSTOMER:
        proposal = services.current_resolution(ticket)
        answer_form = answer_form or AnswerForm(formdata=None, data={"version": ticket.version})
    if survey_due(ticket) is not None:
        survey_form = survey_form or SurveyForm(formdata=None)
    else:
        survey_form = None
    if ticket.status == Status.CLOSED and _within_reopen_window(ticket):
        reopen_form = reopen_form or ReopenForm(formdata=None, data={"version": ticket.version})
    return render_template(
        "portal/track.html",
        ticket=ticket,
        form=form or MessageForm(formdata=None),
        messages=messages,
        now_text=now,
        next_text=next_step,
        proposal=proposal,
        answer_form=answer_form,
        survey_form=survey_form,
        reopen_form=reopen_form,
        files_of=files_of,
        image_types=IMAGE_TYPES,
        step_names=STEP_NAMES,
        by_when=by_when(ticket),
        **_private_link(ticket),
    )


def _private_link(ticket) -> dict:
    """The link this session was opened with, to copy, and when it stops working by itself."""
    token = session.get(TOKEN_KEY)
    if not token:
        return {"private_link": None, "link_ends_at": None}
    return {
        "private_link": url_for("portal.open_link", token=token, _external=True),
        "link_ends_at": link_ends_at(token, ticket),
    }


def _within_reopen_window(ticket) -> bool:
    return ticket.closed_at is not None and utcnow() - ticket.closed_at <= timedelta(days=desk().reopen_days)


def _session_ticket():
    """The session's case while the link that opened it works; a revoked or expired link ends the session."""
    ticket_id = session.get(SESSION_KEY)
    ticket = db.session.get(Ticket, ticket_id) if ticket_id is not None else None
    if ticket is None:
        return None
    token = session.get(TOKEN_KEY)
    if link_still_opens(token, ticket.id) if token else case_still_open_to_links(ticket):
        return ticket
    session.clear()
    return None
