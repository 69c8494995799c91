"""The search box on every staff page: cases and customers by whatever the caller gives."""

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import Length, Optional

from ticketing.auth.permissions import STAFF, roles_required
from ticketing.cases.deadlines import overdue_among, pressing_deadlines, resolution_offered
from ticketing.cases.queries import active_staff
from ticketing.cases.search.finder import search_cases, search_customers
from ticketing.cases.search.query import MAX_LENGTH, parse
from ticketing.clock import utcnow
from ticketing.desk.forms import QueueFilterForm
from ticketing.desk.queries import filter_conditions
from ticketing.forms_common import options
from ticketing.i18n import lazy_gettext as _l

bp = Blueprint("search", __name__)

CUSTOMERS_SHOWN = 5


class SearchForm(QueueFilterForm):
    """What to look for, and the queue's filters to narrow it (any status unless chosen)."""

    q = StringField(_l("Search"), validators=[Optional(), Length(max=MAX_LENGTH)])
    view = None
    sort = None


@bp.route("/search")
@roles_required(*STAFF)
def index():
    form = SearchForm(request.args, status=request.args.get("status") or "all")
    form.assignee.choices = options(
        blank=_l("Anyone"), pairs=[("none", _l("Unassigned"))] + [(str(user.id), user.name) for user in active_staff()]
    )()
    form.validate()
    filters = {name: field.data for name, field in form._fields.items() if name != "q" and not field.errors}
    narrowed = any(value and value != "all" for value in filters.values())
    query = parse(form.q.data)
    after = request.args.get("after")
    cases = search_cases(
        query,
        include_notes=True,  # staff see internal notes; a search for a customer never does
        conditions=filter_conditions(filters, utcnow()),
        limit=current_app.config["QUEUE_PAGE_SIZE"],
        cursor=after,
    )
    if query.reference and not narrowed and not after and [t.reference for t in cases.items[:1]] == [query.reference]:
        return redirect(url_for("desk.case", reference=query.reference))  # a whole reference opens the case
    customers = search_customers(query, limit=CUSTOMERS_SHOWN).items if not after else []
    base_args = {key: value for key, value in request.args.items() if key != "after"}
    return render_template(
        "desk/search.html",
        form=form,
        query=query,
        cases=cases,
        customers=customers,
        narrowed=narrowed,
        base_args=base_args,
        pressing_deadlines=pressing_deadlines,
        overdue_among=overdue_among,
        resolution_offered=resolution_offered,
        me=current_user,
    )
