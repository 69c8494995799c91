"""The mail intake page for supervisors: each intake mailbox and how far it was read, and every mail the
desk kept without filing it (an automatic reply, a bounce, one of our own, a flood, a reply to a closed
case, an unreadable mail), each with its original to read or download."""

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import func, select

from ticketing.auth.permissions import SUPERVISORS, roles_required
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.notify import intake
from ticketing.notify.mail_reading import UnreadableMail, new_part, read
from ticketing.notify.models import InboundMail, Mailbox

bp = Blueprint("mail_admin", __name__, url_prefix="/admin/mail")
PAGE = 50
OUTCOME_LABELS = {
    intake.COMPLAINT: _l("New complaint"),
    intake.REPLY: _l("Reply on its case"),
    intake.AUTOMATIC: _l("Automatic (auto-reply, bounce or list)"),
    intake.OURS: _l("One of our own messages"),
    intake.FLOOD: _l("Too many from one sender"),
    intake.LATE: _l("Reply to a closed case"),
    intake.UNREADABLE: _l("Unreadable"),
}
KEPT = (intake.AUTOMATIC, intake.OURS, intake.FLOOD, intake.LATE, intake.UNREADABLE)


@bp.route("/")
@roles_required(*SUPERVISORS)
def index():
    """The mailboxes, the count of each outcome, and the latest mails of one outcome (the kept ones by default)."""
    chosen = request.args.get("outcome")
    shown = (chosen,) if chosen in OUTCOME_LABELS else KEPT
    counts = dict(db.session.execute(select(InboundMail.outcome, func.count()).group_by(InboundMail.outcome)).all())
    mails = db.session.scalars(
        select(InboundMail).where(InboundMail.outcome.in_(shown)).order_by(InboundMail.id.desc()).limit(PAGE)
    ).all()
    return render_template(
        "admin/mail.html",
        mailboxes=db.session.scalars(select(Mailbox).order_by(Mailbox.name)).all(),
        configured=[settings.name for settings in intake.mailboxes()],
        counts=counts,
        mails=mails,
        chosen=chosen if chosen in OUTCOME_LABELS else None,
        labels=OUTCOME_LABELS,
    )


@bp.route("/<int:mail_id>")
@roles_required(*SUPERVISORS)
def show(mail_id):
    """One mail as received: its sender, subject, text (the new part and the whole) and cleaned HTML."""
    row = db.session.get(InboundMail, mail_id) or abort(404)
    try:
        mail, problem = read(row.raw), None
    except UnreadableMail as error:
        mail, problem = None, str(error)
    return render_template(
        "admin/mail_show.html",
        row=row,
        mail=mail,
        problem=problem,
        new=new_part(mail.text) if mail else "",
        labels=OUTCOME_LABELS,
    )


@bp.route("/<int:mail_id>/original.eml")
@roles_required(*SUPERVISORS)
def original(mail_id):
    """The mail's bytes exactly as the mailbox gave them, to open in a mail program."""
    row = db.session.get(InboundMail, mail_id) or abort(404)
    return Response(
        row.raw,
        content_type="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="mail-{row.id}.eml"',
            "X-Content-Type-Options": "nosniff",
        },
    )
