"""Staff desk pages: the queues, intake, the case page and its actions."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ticketing import refusals
from ticketing.auth.permissions import STAFF, roles_required
from ticketing.cases import services
from ticketing.cases.attachments import Attachment, path_of
from ticketing.cases.deadlines import is_overdue, resolution_offered
from ticketing.cases.queries import active_staff, find_ticket
from ticketing.clock import utcnow
from ticketing.desk import case_page
from ticketing.desk.actions import SPECS, build_form, listen_data
from ticketing.desk.forms import IntakeForm, QueueFilterForm
from ticketing.desk.queries import queue_page
from ticketing.extensions import db
from ticketing.forms_common import options, text_arg
from ticketing.redirects import local_path_or
from ticketing.validation import parse_id

bp = Blueprint("desk", __name__)


@bp.route("/")
@roles_required(*STAFF)
def home():
    return redirect(url_for("desk.queue"))


@bp.route("/queue")
@roles_required(*STAFF)
def queue():
    """'My cases' or the team queue, filtered, sorted and paged by keyset."""
    form = QueueFilterForm(request.args)
    form.assignee.choices = options(
        blank=_("Anyone"), pairs=[("none", _("Unassigned"))] + [(str(user.id), user.name) for user in active_staff()]
    )()
    form.validate()
    filters = {name: field.data for name, field in form._fields.items() if not field.errors}
    if form.view.data != "team":
        filters["assignee"] = str(current_user.id)
    page = queue_page(filters, utcnow(), current_app.config["QUEUE_PAGE_SIZE"], request.args.get("after"))
    base_args = {key: value for key, value in request.args.items() if key != "after"}
    return render_template(
        "desk/queue.html",
        form=form,
        page=page,
        view=form.view.data or "mine",
        base_args=base_args,
        is_overdue=is_overdue,
        resolution_offered=resolution_offered,
    )


@bp.route("/tickets")
@roles_required(*STAFF)
def jump():
    """Open a case by typing its reference."""
    reference = text_arg("reference")
    if find_ticket(reference) is None:
        flash(_("There is no case with that reference."), "error")
        return redirect(url_for("desk.queue"))
    return redirect(url_for("desk.case", reference=reference.strip().upper()))


@bp.route("/intake", methods=["GET", "POST"])
@roles_required(*STAFF)
def intake():
    """One page, one submission: customer, case and step 1."""
    form = IntakeForm()
    if form.validate_on_submit():
        customer = services.find_or_create_customer(
            form.customer_name.data,
            form.customer_email.data,
            form.customer_phone.data,
            customer_id=parse_id(form.customer_id.data),
        )
        ticket = services.take_complaint(
            current_user,
            customer=customer,
            subject=form.subject.data,
            description=form.customer_words.data,
            channel=form.channel.data,
            category=form.category.data,
            product=form.product.data,
            priority=form.priority.data,
            listen=listen_data(form) if form.records_step_one() else None,
        )
        db.session.commit()
        flash(_("Case %(reference)s is open.", reference=ticket.reference), "success")
        return redirect(url_for("desk.case", reference=ticket.reference))
    status = 422 if form.is_submitted() else 200
    return render_template("desk/intake.html", form=form), status


@bp.route("/customers/lookup")
@roles_required(*STAFF)
def customer_lookup():
    """Existing customers by exact phone or email, for the intake form."""
    return jsonify(
        [
            {
                "id": customer.id,
                "name": customer.name,
                "email": customer.email,
                "phone": customer.phone,
                "tier": customer.value_tier.label,
                "cases": len(customer.tickets),
            }
            for customer in services.find_customers(text_arg("q"))
        ]
    )


@bp.route("/tickets/<reference>")
@roles_required(*STAFF)
def case(reference):
    ticket = find_ticket(reference) or abort(404)
    return render_template("desk/case.html", **case_page.context(ticket))


@bp.route("/tickets/<reference>/attachments/<int:attachment_id>")
@roles_required(*STAFF)
def attachment(reference, attachment_id):
    """A customer's file, always as a download (never rendered in the desk's origin)."""
    ticket = find_ticket(reference) or abort(404)
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.ticket_id != ticket.id:
        abort(404)
    return send_file(path_of(row), mimetype=row.content_type, as_attachment=True, download_name=row.original_name)


@bp.route("/tickets/<reference>/actions/<action>", methods=["POST"])
@roles_required(*STAFF)
def act(reference, action):
    """Perform one workflow action; a refused or stale action changes nothing, and the case page
    comes back with the reason and the submitted form (the error handlers call _case_with)."""
    ticket = find_ticket(reference) or abort(404)
    if action not in SPECS:
        abort(404)
    form = build_form(action, ticket, formdata=request.form)
    if not form.validate_on_submit():
        return _case_with(ticket, action, form), 422
    refusals.reshow(
        lambda error: _case_with(ticket, action, form, stale=isinstance(error, services.StaleCase)), form=form
    )
    SPECS[action].perform(form, ticket)
    db.session.commit()
    flash(str(SPECS[action].done), "success")
    # A form may say where to come back to (the approvals queue); by default, the case.
    return redirect(local_path_or(request.form.get("next"), url_for("desk.case", reference=ticket.reference)))


def _case_with(ticket, action, form, stale=False):
    """The case as the database holds it now, with this submission's form and text kept."""
    db.session.refresh(ticket)
    if stale:  # the form now carries the version on screen, so submitting again is a deliberate choice
        form.version.data = ticket.version
        flash(
            _("The page now shows the case as it is; your text is kept below — submit again only if it still applies."),
            "info",
        )
    return render_template("desk/case.html", **case_page.context(ticket, {action: form}))
