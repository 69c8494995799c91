"""Saved views: a staff member's own named queue filters, one click away on the queue page."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ticketing import refusals
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.types import UTCDateTime

# The queue's filters a view keeps (what the queue's form checks); anything else is not kept.
FILTER_NAMES = ("view", "step", "status", "priority", "category", "assignee", "sort", "overdue", "triage")
NAME_LENGTH = 60
MAX_VIEWS = 20


class SavedView(db.Model):
    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_saved_views_user_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    filters: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def views_of(user) -> list[SavedView]:
    return list(db.session.scalars(select(SavedView).where(SavedView.user_id == user.id).order_by(SavedView.name)))


def save_view(user, name: str, filters: dict) -> bool:
    """Keep `filters` under `name` for `user`; the same name again replaces that view's filters.
    Returns whether an existing view was replaced."""
    name = " ".join((name or "").split())
    if not name:
        raise refusals.Refusal(_l("Give the view a name."), status=refusals.UNPROCESSABLE, field="name")
    if len(name) > NAME_LENGTH:
        raise refusals.Refusal(
            _l("A view's name is at most %(max)d characters.", max=NAME_LENGTH),
            status=refusals.UNPROCESSABLE,
            field="name",
        )
    kept = {key: str(value) for key, value in filters.items() if key in FILTER_NAMES and value not in (None, "", False)}
    existing = db.session.scalars(select(SavedView).where(SavedView.user_id == user.id, SavedView.name == name)).first()
    if existing is not None:
        existing.filters = kept
        return True
    if len(views_of(user)) >= MAX_VIEWS:
        raise refusals.Refusal(
            _l("You have %(max)d saved views, the most there can be: delete one first.", max=MAX_VIEWS),
            status=refusals.UNPROCESSABLE,
            field="name",
        )
    try:
        with db.session.begin_nested():  # the same name saved at the same moment (a double click)
            db.session.add(SavedView(user_id=user.id, name=name, filters=kept))
    except IntegrityError:
        return save_view(user, name, filters)  # it exists now: replace it
    return False


def delete_view(user, view_id: int) -> SavedView | None:
    """Delete one of `user`'s own views (None when it is not theirs or is gone)."""
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != user.id:
        return None
    db.session.delete(view)
    return view
