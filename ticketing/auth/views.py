"""Login, logout, language and the user's own account."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ticketing.auth.forms import AccountForm, LanguageForm, LoginForm, PasswordForm
from ticketing.auth.services import AccountError, change_password, find_user_by_email
from ticketing.extensions import db, limiter
from ticketing.redirects import local_path_or

bp = Blueprint("auth", __name__)

# Checked when the email is unknown, so a wrong email costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-password", method="scrypt")


def _safe_next(target: str | None) -> str:
    return local_path_or(target, url_for("desk.queue"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("desk.queue"))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user_by_email(form.email.data)
        if user is not None and user.active and user.check_password(form.password.data):
            session.clear()  # a fresh session at every login
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        if user is None:
            check_password_hash(_DUMMY_HASH, form.password.data)
        flash(_("Email or password is incorrect, or the account is disabled."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Logging out ends this user's sessions everywhere."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
        session["locale"] = form.locale.data
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = AccountForm(obj=current_user, prefix="account")
    password_form = PasswordForm(prefix="password")
    if "account-locale" in request.form and form.validate_on_submit():
        current_user.locale, current_user.timezone = form.locale.data, form.timezone.data
        db.session.commit()
        flash(_("Your preferences are saved."), "success")
        return redirect(url_for("auth.account"))
    if "password-new_password" in request.form and password_form.validate_on_submit():
        if not current_user.check_password(password_form.current_password.data):
            password_form.current_password.errors.append(_("This is not your current password."))
        else:
            try:
                change_password(current_user, password_form.new_password.data)
            except AccountError as error:
                password_form.new_password.errors.append(str(error.reason))
            else:
                db.session.commit()
                login_user(current_user._get_current_object())  # this session goes on with the new token; the others end
                flash(_("Your password is changed; your other sessions have ended."), "success")
                return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, password_form=password_form)
