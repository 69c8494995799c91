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
from flask_babel import format_number
from flask_login import current_user

from ticketing import refusals
from ticketing.auth.models import User
from ticketing.auth.permissions import STAFF, roles_required
from ticketing.cases import catalogue, customers, saved_views, services
from ticketing.cases.attachments import Attachment, path_of
from ticketing.cases.deadlines import overdue_among, pressing_deadlines, resolution_offered
from ticketing.cases.hand_over import hand_over_choices
from ticketing.cases.models import Customer
from ticketing.cases.queries import active_staff, find_ticket, open_case_count
from ticketing.clock import utcnow
from ticketing.desk import case_page, customer_page
from ticketing.desk.actions import SPECS, build_form, listen_data
from ticketing.desk.customer_forms import CustomerForm, CustomerMergeForm, FindDuplicateForm
from ticketing.desk.forms import BulkReassignForm, HandOverForm, IntakeForm, QueueFilterForm, SaveViewForm
from ticketing.desk.queries import (
    TRIAGE_COUNT_LIMIT,
    header_order,
    header_sort,
    queue_page,
    row_words,
    waiting_for_triage,
)
from ticketing.desk.queue import chosen_filters
from ticketing.extensions import db
from ticketing.forms_common import options, text_arg
from ticketing.i18n import gettext as _
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
    staff = active_staff()
    form.assignee.choices = options(
        blank=_("Anyone"), pairs=[("none", _("Unassigned"))] + [(str(user.id), user.name) for user in staff]
    )()
    form.validate()
    filters = {name: field.data for name, field in form._fields.items() if not field.errors}
    view = "team" if form.view.data == "team" else "mine"
    if view == "mine":
        filters["assignee"] = str(current_user.id)
    page = queue_page(filters, utcnow(), current_app.config["QUEUE_PAGE_SIZE"], request.args.get("after"))
    base_args = {key: value for key, value in request.args.items() if key != "after"}
    supervising = view == "team" and current_user.is_supervisor
    holder = _holder_shown(filters) if supervising else None
    return render_template(
        "desk/queue.html",
        form=form,
        page=page,
        view=view,
        base_args=base_args,
        sort=filters.get("sort") or "due",
        header_sort=header_sort,
        header_order=header_order,
        count_limit_text=format_number(page.limit),
        pressing_deadlines=pressing_deadlines,
        overdue_among=overdue_among,
        words=row_words(),
        resolution_offered=resolution_offered,
        waiting_for_triage=waiting_for_triage(),
        triage_count_limit=TRIAGE_COUNT_LIMIT,
        saved_views=saved_views.views_of(current_user),
        shown_filters=chosen_filters(form),
        save_form=SaveViewForm(formdata=None, query=request.query_string.decode("utf-8", "replace")),
        bulk_form=_bulk_form(staff) if supervising and page.tickets else None,
        holder=holder,
        holder_cases=open_case_count(holder.id) if holder else 0,
        hand_over_form=_hand_over_form(holder, staff) if holder else None,
    )


def _holder_shown(filters):
    """The colleague whose cases the team queue is filtered to, when a supervisor may hand them over."""
    ident = parse_id(filters.get("assignee") or "")
    return db.session.get(User, ident) if ident else None


def _bulk_form(staff):
    form = BulkReassignForm(formdata=None, next=request.full_path)
    form.assignee.choices = hand_over_choices(staff=staff)
    return form


def _hand_over_form(holder, staff):
    form = HandOverForm(formdata=None, holder=str(holder.id), next=request.full_path)
    form.assignee.choices = hand_over_choices(leaving=holder.id, staff=staff)
    return form


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
        customers.set_tier_at_intake(customer, current_user, form.value_tier.data)
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
    return render_template("desk/intake.html", form=form, products=catalogue.active_products()), status


@bp.route("/customers/lookup")
@roles_required(*STAFF)
def customer_lookup():
    """Existing customers by exact phone or email, for the intake form: who is calling, their open
    cases and how their last case ended (the screen-pop)."""
    return jsonify(customer_page.screen_pop(text_arg("q")))


@bp.route("/customers/<int:customer_id>")
@roles_required(*STAFF)
def customer(customer_id):
    """The customer's record; a merged record sends the reader on to the one it was merged into."""
    found = db.session.get(Customer, customer_id) or abort(404)
    if found.merged_into_id is not None:
        flash(_("Record #%(id)d (%(name)s) was merged into this one.", id=found.id, name=found.name), "info")
        return redirect(url_for("desk.customer", customer_id=customer_page.live(found).id))
    return _customer_with(found, CustomerForm(obj=found, keep_tier=found.value_tier))


@bp.route("/customers/<int:customer_id>", methods=["POST"])
@roles_required(*STAFF)
def update_customer(customer_id):
    """Save corrected details; a stale, empty or clashing edit comes back with the reason, nothing saved."""
    found = db.session.get(Customer, customer_id) or abort(404)
    form = CustomerForm(keep_tier=found.value_tier)
    if not form.validate_on_submit():
        return _customer_with(found, form), 422
    refusals.reshow(
        lambda error: _customer_with(found, form, stale=isinstance(error, customers.StaleCustomer)), form=form
    )
    customers.update_customer(found, current_user, version=form.version.data, **form.details())
    db.session.commit()
    flash(_("The customer's details are saved."), "success")
    return redirect(url_for("desk.customer", customer_id=found.id))


def _customer_with(found, form, stale=False):
    if stale:  # the form now carries the version on screen, so saving again is a deliberate choice
        form.version.data = found.version
        flash(
            _("The page now shows the record as it is; your changes are still in the form: save again if they apply."),
            "info",
        )
    return render_template("desk/customer.html", form=form, **customer_page.record(found))


@bp.route("/customers/<int:customer_id>/merge")
@roles_required(*STAFF)
def find_duplicate(customer_id):
    """A merge, first: name the other record of the same person."""
    found = db.session.get(Customer, customer_id) or abort(404)
    form = FindDuplicateForm(request.args)
    searched = "q" in request.args and form.validate()
    matches = customer_page.candidates(form.q.data, found) if searched else None
    return render_template("desk/customer_merge.html", customer=found, form=form, matches=matches)


@bp.route("/customers/<int:customer_id>/merge/<int:other_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def merge_customer(customer_id, other_id):
    """Then both records side by side; confirming merges the other record into this one."""
    survivor = db.session.get(Customer, customer_id) or abort(404)
    duplicate = db.session.get(Customer, other_id) or abort(404)
    form = CustomerMergeForm(data={"survivor_version": survivor.version, "duplicate_version": duplicate.version})
    if request.method == "GET":
        return _merge_page(survivor, duplicate, form)
    if not form.validate_on_submit():
        return _merge_page(survivor, duplicate, form), 422
    refusals.reshow(
        lambda error: _merge_page(survivor, duplicate, form, stale=isinstance(error, customers.StaleCustomer)),
        form=form,
    )
    customers.merge_customers(
        survivor,
        duplicate,
        current_user,
        survivor_version=form.survivor_version.data,
        duplicate_version=form.duplicate_version.data,
        reason=form.reason.data,
    )
    db.session.commit()
    flash(_("Record #%(id)d (%(name)s) is merged into this one.", id=duplicate.id, name=duplicate.name), "success")
    return redirect(url_for("desk.customer", customer_id=survivor.id))


def _merge_page(survivor, duplicate, form, stale=False):
    if stale:  # both records as they are now: confirming again is a deliberate choice
        form.survivor_version.data, form.duplicate_version.data = survivor.version, duplicate.version
        flash(
            _("The page now shows both records as they are; confirm again if they are still the same person."), "info"
        )
    return render_template(
        "desk/customer_merge_confirm.html", form=form, **customer_page.side_by_side(survivor, duplicate)
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


@bp.route("/tickets/<reference>/private-links/revoke", methods=["POST"])
@roles_required(*STAFF)
def revoke_links(reference):
    """End every private link of the case at once (a refusal comes back on the case page, with the reason)."""
    ticket = find_ticket(reference) or abort(404)
    refusals.reshow(lambda error: _case_with(ticket))
    ended = services.revoke_portal_links(ticket, current_user)
    db.session.commit()
    flash(_("Private links revoked: %(num)d. None of them opens the case any more.", num=ended), "success")
    return redirect(url_for("desk.case", reference=ticket.reference))


def _case_with(ticket, action=None, form=None, stale=False):
    """The case as the database holds it now, with this submission's form and text kept."""
    db.session.refresh(ticket)
    if stale:  # the form now carries the version on screen, so submitting again is a deliberate choice
        form.version.data = ticket.version
        flash(
            _("The page now shows the case as it is; your text is kept below — submit again only if it still applies."),
            "info",
        )
    return render_template("desk/case.html", **case_page.context(ticket, {action: form} if form else None))
