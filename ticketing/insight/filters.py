"""The dashboard's period and filters: a GET form, read into the Filters every figure takes."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import or_, select
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from ticketing.auth.models import User
from ticketing.cases import catalogue
from ticketing.cases.catalogue import Product
from ticketing.cases.models import Ticket
from ticketing.cases.queries import capped_count
from ticketing.cases.vocabulary import Channel
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.forms_common import PolicyForm, options
from ticketing.i18n import gettext as _
from ticketing.i18n import lazy_gettext as _l

DEFAULT_DAYS = 90
MAX_DAYS = 3660  # ten years: at most 120 monthly columns


@dataclass(frozen=True)
class Filters:
    """Which cases the dashboard is about: opened in [since, until) (UTC), narrowed by the rest."""

    first_day: date  # the period in the reader's timezone, both days included
    last_day: date
    zone: ZoneInfo
    now: datetime  # when the dashboard was asked for (open cases are measured to it)
    category: str | None = None  # a category's code
    product: str | None = None  # a product's code
    channel: str | None = None
    assignee_id: int | None = None

    @property
    def since(self) -> datetime:
        return midnight(self.first_day, self.zone)

    @property
    def until(self) -> datetime:
        return midnight(self.last_day + timedelta(days=1), self.zone)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)


class InsightFilterForm(PolicyForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("Until"), validators=[Optional()])
    category = SelectField(
        _l("Category"),
        choices=options(blank=_l("Any category"), pairs=catalogue.all_category_choices),
        validators=[Optional()],
    )
    product = SelectField(_l("Product"), validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=options(Channel, blank=_l("Any channel")), validators=[Optional()])
    assignee = SelectField(_l("Team member"), validators=[Optional()])

    def validate_date_from(self, field):
        _plausible(field)

    def validate_date_to(self, field):
        _plausible(field)
        start = self.date_from.data if not self.date_from.errors else None
        if field.data and start and field.data < start:
            raise ValidationError(_l("The end of the period comes before its start."))
        if field.data and start and (field.data - start).days >= MAX_DAYS:
            raise ValidationError(_l("Choose a period of at most ten years."))


def _period(form: InsightFilterForm, zone: ZoneInfo) -> tuple[date, date]:
    """The days the form asks for, both included; a date with an error counts as not given."""
    start = form.date_from.data if not form.date_from.errors else None
    end = form.date_to.data if not form.date_to.errors else None
    today = utcnow().astimezone(zone).date()
    last = end or max(today, start or today)
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    first = max(first, last - timedelta(days=MAX_DAYS - 1))  # a start far back with no usable end
    return first, last


def _plausible(field) -> None:
    """Keep the day bounds computable: a year like 1 or 9999 would overflow in another timezone."""
    if field.data and not 1970 <= field.data.year <= 9000:
        raise ValidationError(_l("Give a date between 1970 and 9000."))


def products(first: date, last: date, zone: ZoneInfo, chosen: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of the catalogue's products the cases opened in the period are about (found by the
    period's index, never by reading every case), for the product filter; and the one already
    chosen, if it is a product of the catalogue."""
    in_period = (
        Ticket.created_at >= midnight(first, zone),
        Ticket.created_at < midnight(last + timedelta(days=1), zone),
    )
    many = current_app.config["REPORT_LIVE_CASES"]
    if capped_count(select(Ticket.id).where(*in_period), many) > many:
        # A long period of a large desk: reading which products its cases name took as long as the page
        # (a year at 1M cases: 0.2 s), so the catalogue's products are offered (the retired ones too).
        ids = select(Product.id).where(Product.merged_into_id.is_(None))
    else:
        ids = select(Ticket.product_id).where(*in_period, Ticket.product_id.is_not(None)).distinct()
    named = or_(Product.id.in_(ids), Product.code == chosen) if chosen else Product.id.in_(ids)
    found = db.session.scalars(select(Product).where(named))
    return sorted(((product.code, product.name) for product in found), key=lambda pair: pair[1].casefold())


def staff() -> list[User]:
    """Everyone a case can be assigned to, the departed too (their cases stay in the figures)."""
    return list(db.session.scalars(select(User).order_by(User.name)))


def read_filters(args, zone: ZoneInfo) -> tuple[InsightFilterForm, Filters]:
    """The form from the query string and the Filters it means. A field with a bad value is shown
    with its error and ignored; without dates the period is the last DEFAULT_DAYS days."""
    form = InsightFilterForm(args)
    form.assignee.choices = options(blank=_("Anyone"), pairs=lambda: [(str(u.id), u.name) for u in staff()])()
    # Read when the product is validated, after the dates (fields validate in order): the products
    # offered are those of the period asked for.
    form.product.choices = lambda form, field: options(
        blank=_("Any product"),
        pairs=lambda: products(*_period(form, zone), zone, None if field.errors else field.data),
    )()
    form.validate()
    data = {name: field.data for name, field in form._fields.items() if not field.errors}
    first, last = _period(form, zone)
    form.date_from.data, form.date_to.data = first, last
    assignee = data.get("assignee")
    return form, Filters(
        first_day=first,
        last_day=last,
        zone=zone,
        now=utcnow(),
        category=data.get("category") or None,
        product=data.get("product") or None,
        channel=data.get("channel") or None,
        assignee_id=int(assignee) if assignee else None,
    )
