"""Supervisor review: the review queue and page, compensation approvals, lessons and
preventive actions, quality sampling."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from ticketing import refusals
from ticketing.auth.permissions import STAFF, SUPERVISORS, roles_required
from ticketing.cases import checklist, fair_offers, improvement, rework, services
from ticketing.cases.case_file import case_file
from ticketing.cases.improvement import PreventiveAction, QualityScore
from ticketing.cases.precedents import precedents_for
from ticketing.cases.queries import active_staff, find_ticket
from ticketing.cases.vocabulary import RootCause
from ticketing.extensions import db
from ticketing.forms_common import options, text_arg
from ticketing.i18n import gettext as _
from ticketing.review import queries
from ticketing.review.forms import DecisionForm, DoneForm, PreventiveActionForm, SampleForm, ScoreForm

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.route("/")
@roles_required(*SUPERVISORS)
def queue():
    return render_template("review/queue.html", tickets=queries.waiting_for_review())


@bp.route("/cases/<reference>", methods=["GET", "POST"])
@roles_required(*SUPERVISORS)
def case(reference):
    """The whole case on one screen, the checklist, and the decision."""
    ticket = find_ticket(reference) or abort(404)
    form = DecisionForm(
        data=None
        if request.method == "POST"
        else {"version": ticket.version, **{f"check_{k}": v for k, v in checklist.suggest(ticket).items()}}
    )
    if form.validate_on_submit():
        refusals.reshow(
            lambda error: _review_page(ticket, _seen_now(form, ticket, error), _preventive_form(ticket)),
            form=form,
        )
        _decide(ticket, form)
        db.session.commit()
        flash(
            _("Review approved: the case is closed.")
            if form.decision.data == "approve"
            else _("The case is returned with your comments; the assignee is notified."),
            "success",
        )
        return redirect(url_for("review.queue"))
    return _review_page(ticket, form, _preventive_form(ticket)), 422 if form.errors else 200


def _preventive_form(ticket):
    """The supervisor's preventive action starts from the one the agent proposed, for editing."""
    return PreventiveActionForm(formdata=None, data=rework.preventive_defaults(ticket))


def _seen_now(form, ticket, error):
    """After a stale decision the page shows the case as it is now; deciding again is deliberate."""
    if isinstance(error, services.StaleCase):
        form.version.data = ticket.version  # read fresh: the rollback expired this copy
    return form


def _decide(ticket, form):
    if form.decision.data == "approve":
        services.approve_review(
            ticket, current_user, version=form.version.data, comments=form.comments.data, checklist=form.checklist()
        )
    else:
        services.return_review(
            ticket,
            current_user,
            version=form.version.data,
            return_to=form.return_to.data,
            reason=form.comments.data,
            checklist=form.checklist(),
        )


def _review_page(ticket, form, action_form):
    action_form.owner.choices = options(pairs=[(u.id, u.name) for u in active_staff()])()
    db.session.refresh(ticket)
    file = case_file(ticket)
    four_eyes = fair_offers.on_review(ticket, current_user, [entry["event"] for entry in file["timeline"]])
    return render_template(
        "review/case.html",
        form=form,
        action_form=action_form,
        checklist_items=checklist.ITEMS,
        four_eyes=four_eyes,
        **file,
    )


@bp.route("/cases/<reference>/preventive-actions", methods=["POST"])
@roles_required(*SUPERVISORS)
def add_action(reference):
    ticket = find_ticket(reference) or abort(404)
    form = PreventiveActionForm()
    form.owner.choices = options(pairs=[(u.id, u.name) for u in active_staff()])()
    if form.validate_on_submit():
        owner = next(u for u in active_staff() if u.id == form.owner.data)
        improvement.add_preventive_action(
            ticket, current_user, description=form.description.data, owner=owner, due_date=form.due_date.data
        )
        db.session.commit()
        flash(_("The preventive action is recorded; its owner will be reminded."), "success")
        return redirect(request.referrer or url_for("review.case", reference=reference))
    decision = DecisionForm(data={"version": ticket.version})
    return _review_page(ticket, decision, form), 422


@bp.route("/approvals")
@roles_required(*SUPERVISORS)
def approvals():
    """Each proposal with what similar closed cases received, and where its amounts fall against that."""
    tickets = queries.waiting_for_approval()
    return render_template(
        "review/approvals.html",
        items=[(t, services.current_resolution(t), precedents_for(t), fair_offers.why_waiting(t)) for t in tickets],
    )


@bp.route("/lessons")
@roles_required(*STAFF)
def lessons():
    """Lessons learned and preventive actions across cases, searchable."""
    q, cause, status = text_arg("q"), request.args.get("cause") or None, text_arg("status") or None
    cause = cause if cause in {c.value for c in RootCause} else None
    return render_template(
        "review/lessons.html",
        rows=queries.lessons(q, cause),
        actions=queries.preventive_actions(status, cause),
        q=q,
        cause=cause,
        status=status,
        done_form=DoneForm(formdata=None),
        allowed=lambda action: improvement.allowed_verbs(action, current_user),
    )


@bp.route("/preventive-actions/<int:action_id>/<verb>", methods=["POST"])
@roles_required(*STAFF)
def update_action(action_id, verb):
    """The owner reports a preventive action done; a supervisor verifies it."""
    if verb not in ("done", "verify"):
        abort(404)
    action = db.session.get(PreventiveAction, action_id) or abort(404)
    form = DoneForm()
    if verb == "done" and not form.validate_on_submit():
        flash(_("Say what was done."), "error")
        return redirect(url_for("review.lessons"))
    refusals.reshow(lambda error: redirect(url_for("review.lessons")))  # the list, with the reason on top
    if verb == "done":
        improvement.complete_preventive_action(action, current_user, note=form.note.data)
    else:
        improvement.verify_preventive_action(action, current_user)
    db.session.commit()
    flash(_("The preventive action is updated."), "success")
    return redirect(url_for("review.lessons"))


def _drawn_message(drawn) -> tuple[str, str]:
    """How many cases a draw gave, and when fewer than asked, why."""
    said = ngettext("Drew %(num)d case to score.", "Drew %(num)d cases to score.", drawn.drawn)
    if drawn.drawn >= drawn.asked:
        return said, "success"
    why = [_("Fewer than the %(asked)d asked for: no other closed case matches the filters.", asked=drawn.asked)]
    if drawn.waiting:
        why.append(
            ngettext(
                "%(num)d more matches but already waits to be scored, and is not drawn twice.",
                "%(num)d more match but already wait to be scored, and are not drawn twice.",
                drawn.waiting,
            )
        )
    return " ".join([said, *why]), "success" if drawn.drawn else "error"


@bp.route("/quality", methods=["GET", "POST"])
@roles_required(*SUPERVISORS)
def quality():
    """Draw a random sample of closed cases; see scores per agent."""
    form = SampleForm()
    form.agent.choices = options(blank=_("Any agent"), pairs=[(str(u.id), u.name) for u in active_staff()])()
    if form.validate_on_submit():
        drawn = improvement.draw_sample(
            current_user,
            size=form.size.data,
            since=_start_of(form.since.data),
            until=_start_of(form.until.data, next_day=True),
            agent_id=int(form.agent.data) if form.agent.data else None,
            category=form.category.data or None,
        )
        db.session.commit()
        flash(*_drawn_message(drawn))
        return redirect(url_for("review.quality"))
    return render_template(
        "review/quality.html", form=form, pending=queries.unscored_samples(), agents=improvement.agent_quality()
    ), 422 if form.errors else 200


@bp.route("/quality/<int:score_id>", methods=["GET", "POST"])
@roles_required(*SUPERVISORS)
def score(score_id):
    row = db.session.get(QualityScore, score_id) or abort(404)
    form = ScoreForm(
        data=None if request.method == "POST" else {f"check_{k}": v for k, v in checklist.suggest(row.ticket).items()}
    )
    if form.validate_on_submit():
        improvement.score_case(row, current_user, checklist=form.checklist(), comment=form.comment.data)
        db.session.commit()
        flash(_("Score saved."), "success")
        return redirect(url_for("review.quality"))
    return render_template(
        "review/score.html", form=form, row=row, checklist_items=checklist.ITEMS, **case_file(row.ticket)
    )


def _start_of(day, next_day=False):
    if day is None:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day + timedelta(days=1 if next_day else 0), time(0), zone)
