"""User administration: admins create staff accounts, change roles, disable and reset."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ticketing import refusals
from ticketing.auth.forms import UserEditForm, UserForm
from ticketing.auth.models import User
from ticketing.auth.permissions import ADMINS, roles_required
from ticketing.auth.services import change_password, create_user, set_active, set_role
from ticketing.auth.tokens import tokens_of
from ticketing.cases.hand_over import before_disabling, hand_over_choices
from ticketing.cases.queries import open_case_count
from ticketing.extensions import db
from ticketing.i18n import gettext as _

bp = Blueprint("users", __name__, url_prefix="/admin/users")


@bp.route("/", methods=["GET", "POST"])
@roles_required(*ADMINS)
def index():
    form = UserForm()
    if form.validate_on_submit():
        refusals.reshow(lambda error: _users_page(form), form=form)
        create_user(
            email=form.email.data,
            password=form.password.data,
            role=form.role.data,
            name=form.name.data,
            locale=form.locale.data,
            acting=current_user,
        )
        db.session.commit()
        flash(_("The account is created."), "success")
        return redirect(url_for("users.index"))
    return _users_page(form), 422 if form.errors else 200


def _users_page(form):
    users = db.session.scalars(select(User).order_by(User.name))
    return render_template("auth/users.html", users=list(users), form=form)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@roles_required(*ADMINS)
def edit(user_id):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    holding = open_case_count(user.id)
    form.cases_to.choices = hand_over_choices(leaving=user.id) if holding else []
    if form.validate_on_submit():
        refusals.reshow(lambda error: _edit_page(user, form, holding), form=form)
        if user.active and not form.active.data:
            before_disabling(user, current_user, form.cases_to.data)
        set_role(user, form.role.data, current_user)
        set_active(user, form.active.data, current_user)
        if form.new_password.data:
            change_password(user, form.new_password.data, acting=current_user)
        db.session.commit()
        flash(_("The account is updated."), "success")
        return redirect(url_for("users.index"))
    return _edit_page(user, form, holding), 422 if form.errors else 200


def _edit_page(user, form, holding=0):
    return render_template("auth/user_edit.html", user=user, form=form, tokens=tokens_of(user), holding=holding)
