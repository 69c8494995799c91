"""Reply templates (apology, restatement, proposal wording) that supervisors maintain, per language."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ticketing.auth import security_log
from ticketing.auth.forms import LANGUAGE_CHOICES
from ticketing.auth.permissions import SUPERVISORS, roles_required
from ticketing.cases import reply_text
from ticketing.cases.models import ReplyTemplate
from ticketing.cases.vocabulary import ReplyKind
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.forms_common import PolicyForm, options
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l

bp = Blueprint("replies", __name__, url_prefix="/replies")
FIELDS = ("kind", "locale", "title", "body", "active")


class ReplyTemplateForm(PolicyForm):
    kind = SelectField(_l("Used for"), choices=options(ReplyKind))
    locale = SelectField(_l("Language"), choices=options(pairs=LANGUAGE_CHOICES))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("Wording"), validators=[DataRequired(), Length(max=4000)])
    active = BooleanField(_l("Offered to staff"), default=True)

    def validate_body(self, field):
        """The placeholder rule is the domain's (cases/reply_text.py): unknown names and stray braces are refused."""
        try:
            reply_text.check(field.data or "")
        except reply_text.PlaceholderError as error:
            raise ValidationError(str(error.reason)) from None


@bp.route("/")
@roles_required(*SUPERVISORS)
def index():
    rows = db.session.scalars(
        select(ReplyTemplate).order_by(ReplyTemplate.locale, ReplyTemplate.kind, ReplyTemplate.title)
    )
    return render_template("desk/replies.html", templates=list(rows))


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:template_id>", methods=["GET", "POST"])
@roles_required(*SUPERVISORS)
def edit(template_id=None):
    template = db.session.get(ReplyTemplate, template_id) if template_id else ReplyTemplate(active=True)
    if template is None:
        abort(404)
    form = ReplyTemplateForm(obj=template)
    if form.validate_on_submit():
        before = _fields(template) if template.id else {}
        form.populate_obj(template)
        template.updated_by_id, template.updated_at = current_user.id, utcnow()
        db.session.add(template)
        db.session.flush()
        _record(template, before)
        db.session.commit()
        flash(_("The reply template is saved."), "success")
        return redirect(url_for("replies.index"))
    return render_template(
        "desk/reply_edit.html", form=form, template=template, placeholders=reply_text.PLACEHOLDERS
    ), 422 if form.errors else 200


def _fields(template: ReplyTemplate) -> dict:
    return {name: getattr(template, name) for name in FIELDS}


def _record(template: ReplyTemplate, before: dict) -> None:
    """The security log keeps each change of wording: which fields, from what to what."""
    after = _fields(template)
    changes = {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}
    if changes:
        details = {"created": not before, "changes": changes}
        security_log.record(
            security_log.Kind.TEMPLATE_SAVED, actor=current_user, subject=("template", template.id), details=details
        )
