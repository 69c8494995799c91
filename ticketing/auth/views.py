"""Login, logout, language and the user's own account."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ticketing import refusals
from ticketing.auth import security_log, sessions, throttle
from ticketing.auth.forms import AccountForm, LanguageForm, LoginForm, PasswordForm, TokenForm
from ticketing.auth.security_log import Kind
from ticketing.auth.services import change_password, find_user_by_email
from ticketing.auth.tokens import create_token as create_api_token
from ticketing.auth.tokens import revoke_token as revoke_api_token
from ticketing.auth.tokens import token_visible_to, tokens_of
from ticketing.extensions import db, limiter
from ticketing.i18n import clock
from ticketing.i18n import gettext as _
from ticketing.redirects import local_path_or

bp = Blueprint("auth", __name__)


def _dummy_hash() -> str:
    """Checked when the email is unknown, so a wrong email costs the same time as a wrong password
    (CVE-2021-38562 was RT's version of that leak): made once per app, with the method real users'
    hashes are made with (it comes from the config)."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    made = current_app.extensions.setdefault("ticketing.auth.dummy_hashes", {})
    if method not in made:
        made[method] = generate_password_hash("not-a-password", method=method)
    return made[method]


def _safe_next(target: str | None) -> str:
    return local_path_or(target, url_for("desk.queue"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("desk.queue"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data
        user = find_user_by_email(email)
        until = throttle.refused_until(email)
        if until is not None:  # the same answer whether or not the address has an account
            _record_failed_login(user, "throttled")
            message = _(
                "Too many failed logins with this email address. Try again after %(time)s.",
                time=clock(until),
            )
            flash(message, "error")
            return render_template("auth/login.html", form=form), 429
        # Exactly one password check whatever the account: an unknown or disabled one answers as slowly
        # as a wrong password, so the time taken says nothing about which it was.
        matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), form.password.data)
        if user is not None and user.active and matches:
            throttle.forget_failures(email)
            session.clear()  # a fresh session at every login
            login_user(user)
            sessions.start()
            security_log.record(Kind.LOGIN, actor=user, subject=("user", user.id))
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        throttle.count_failure(email)
        _record_failed_login(user, "unknown" if user is None else "disabled" if not user.active else "password")
        flash(_("Email or password is incorrect, or the account is disabled."), "error")
    elif request.method == "POST":
        _record_failed_login(None, "refused_form")
    return render_template("auth/login.html", form=form)


def _record_failed_login(user, reason: str) -> None:
    """Written whether or not the address is known (the same work either way); the address as typed."""
    details = {"email": security_log.typed(request.form.get("email")), "reason": reason}
    security_log.record(Kind.LOGIN_FAILED, actor=user, subject=("user", user.id) if user else None, details=details)
    db.session.commit()


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Logging out ends this user's sessions everywhere."""
    current_user.end_sessions()
    security_log.record(Kind.LOGOUT, actor=current_user, subject=("user", current_user.id))
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
            refusals.reshow(
                lambda error: _account_page(form=form, password_form=password_form)[0],
                form=password_form,
                field=password_form.new_password,
            )
            change_password(current_user, password_form.new_password.data)
            db.session.commit()
            login_user(current_user._get_current_object())  # this session goes on with the new token; the others end
            flash(_("Your password is changed; your other sessions have ended."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(form=form, password_form=password_form)


def _account_page(form=None, password_form=None, token_form=None, new_token=None, status=200):
    return render_template(
        "auth/account.html",
        form=form or AccountForm(obj=current_user, prefix="account"),
        password_form=password_form or PasswordForm(prefix="password"),
        token_form=token_form or TokenForm(prefix="token", formdata=None),
        tokens=tokens_of(current_user),
        new_token=new_token,
    ), status


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_token():
    """The secret is rendered in this response only: never in a URL, a redirect or the session."""
    token_form = TokenForm(prefix="token")
    if token_form.validate_on_submit():
        refusals.reshow(lambda error: _account_page(token_form=token_form)[0], field=token_form.name)
        row, secret = create_api_token(current_user, token_form.name.data, token_form.read_only.data)
        db.session.commit()
        return _account_page(new_token=(row, secret))
    return _account_page(token_form=token_form, status=422)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id):
    """Owners revoke their own tokens, admins anyone's; another user's token is a 404, like a missing one."""
    token = token_visible_to(current_user, token_id) or abort(404)
    back = local_path_or(request.form.get("next"), url_for("auth.account"))
    refusals.reshow(lambda error: redirect(back))  # the page the button was on, the reason on top
    revoke_api_token(current_user, token)
    db.session.commit()
    flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
    return redirect(back)
