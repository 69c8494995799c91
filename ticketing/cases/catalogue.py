"""The catalogues the desk keeps as data: case categories, products (with their aliases) and customer
value tiers, each named in English and in Chinese, active or retired.

Cases and customers hold a category or tier by its code and a product by its id (and the text as
typed). What is offered for new input is the active entries; a retired one still reads with its
name wherever it was used. The one check of a category or tier code is `check_category` /
`check_tier`; the one way from typed text to a product is `resolve_product` (or `product_for`,
which may create it). Changes to the catalogues are in catalogue_edits.py.
"""

import re
from datetime import datetime
from typing import Any

from flask import g, has_app_context
from flask_babel import get_locale
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ticketing import refusals, validation
from ticketing.cases.search.text import fold
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.types import UTCDateTime

DEFAULT_TIER = "standard"  # a new customer's tier; it cannot be retired
NAME_LENGTH = 120


class _Named:
    """An entry with a code and a name in each language, offered while active, in `position` order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name_zh: Mapped[str] = mapped_column(String(NAME_LENGTH))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def name(self) -> str:
        return local_name(self.name_en, self.name_zh)


class Category(_Named, db.Model):
    __tablename__ = "categories"


class ValueTier(_Named, db.Model):
    __tablename__ = "value_tiers"

    high_value: Mapped[bool] = mapped_column(Boolean, default=False)  # counted as a high-value customer


class Product(db.Model):
    """A product or service complaints are about. A merged product lives on in the one it was merged
    into: its cases, names and aliases moved there; the row stays, so old log lines still read."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(NAME_LENGTH))
    name_zh: Mapped[str] = mapped_column(String(NAME_LENGTH))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def name(self) -> str:
        return local_name(self.name_en, self.name_zh)


class ProductAlias(db.Model):
    """A text that means a product: each of its names, and the other names people give it. Matched
    folded (case, full-width forms and runs of spaces ignored), so one folded text means one product."""

    __tablename__ = "product_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    alias: Mapped[str] = mapped_column(String(NAME_LENGTH))
    folded: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CatalogueChange(db.Model):
    """One change to a catalogue entry: who, when, what, and the fields before and after."""

    __tablename__ = "catalogue_changes"
    __table_args__ = (Index("ix_catalogue_changes_kind_item_id", "kind", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # category | product | tier
    item_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))  # created | edited | retired | activated | alias | merged_*
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- the entries every new desk starts with (migration 0015 writes the same rows) -------------------

DEFAULT_CATEGORIES = [
    ("product", "Product quality", "商品质量"),
    ("delivery", "Delivery", "配送"),
    ("billing", "Billing", "账单与收费"),
    ("service", "Service attitude", "服务态度"),
    ("installation", "Installation", "安装"),
    ("after_sales", "After-sales", "售后服务"),
    ("other", "Other", "其他"),
]
DEFAULT_TIERS = [
    ("standard", "Standard", "普通", False),
    ("silver", "Silver", "银卡", False),
    ("gold", "Gold", "金卡", True),
    ("vip", "VIP", "VIP", True),
]


def _seed_categories(table, connection, **_):
    rows = [
        dict(code=c, name_en=en, name_zh=zh, active=True, position=10 * (n + 1))
        for n, (c, en, zh) in enumerate(DEFAULT_CATEGORIES)
    ]
    connection.execute(insert(table), rows)


def _seed_tiers(table, connection, **_):
    rows = [
        dict(code=c, name_en=en, name_zh=zh, active=True, position=10 * (n + 1), high_value=high)
        for n, (c, en, zh, high) in enumerate(DEFAULT_TIERS)
    ]
    connection.execute(insert(table), rows)


# A database built from the models (the tests' create_all) starts with the same entries as a migrated one.
event.listen(Category.__table__, "after_create", _seed_categories)
event.listen(ValueTier.__table__, "after_create", _seed_tiers)


# -- names in the reader's language ---------------------------------------------------------------


def local_name(name_en: str, name_zh: str) -> str:
    locale = get_locale() if has_app_context() else None
    return (name_zh or name_en) if locale is not None and locale.language == "zh" else (name_en or name_zh)


def _names(model) -> dict:
    """code -> (English, Chinese) of every entry, read once per request (or job run)."""
    cache = g.setdefault("catalogue_names", {})
    if model not in cache:
        rows = db.session.execute(select(model.code, model.name_en, model.name_zh))
        cache[model] = {code: (name_en, name_zh) for code, name_en, name_zh in rows}
    return cache[model]


def forget() -> None:
    """Read the catalogues again at the next look-up (after a change in this request)."""
    g.pop("catalogue_names", None)
    g.pop("catalogue_products", None)
    g.pop("catalogue_codes", None)
    g.pop("catalogue_entries", None)


def category_label(code: str | None) -> str:
    """The category's name in the reader's language, retired or not ("" for none; an unknown code as is)."""
    if not code:
        return ""
    names = _names(Category).get(code)
    return local_name(*names) if names else code


def tier_label(code: str | None) -> str:
    if not code:
        return ""
    names = _names(ValueTier).get(code)
    return local_name(*names) if names else code


def product_label(code: str | None) -> str:
    """A product's name by its code (the early warnings and the record log keep codes)."""
    if not code:
        return ""
    known = g.setdefault("catalogue_products", {})
    if code not in known:
        row = db.session.execute(select(Product.name_en, Product.name_zh).where(Product.code == code)).first()
        known[code] = tuple(row) if row else None
    return local_name(*known[code]) if known[code] else code


# -- categories and tiers -------------------------------------------------------------------------


def entries(model, include_retired: bool = False) -> list:
    """The entries in order, read once per request (a form asks for its choices when it validates and
    again when it is drawn)."""
    cache = g.setdefault("catalogue_entries", {})
    if model not in cache:
        cache[model] = list(db.session.scalars(select(model).order_by(model.position, model.code)))
    return [row for row in cache[model] if include_retired or row.active]


def choices(model, include_retired: bool = False, keep: str | None = None) -> list[tuple[str, str]]:
    """(code, name) for a choice list: the active entries in order, the retired ones too for a filter
    over old cases, and `keep` (the value already on the record) even when retired."""
    return [(row.code, row.name) for row in entries(model, True) if row.active or include_retired or row.code == keep]


def category_choices(include_retired: bool = False, keep: str | None = None) -> list[tuple[str, str]]:
    return choices(Category, include_retired, keep)


def all_category_choices() -> list[tuple[str, str]]:
    """Every category, the retired too: what a filter over old cases offers."""
    return choices(Category, include_retired=True)


def tier_choices(include_retired: bool = False, keep: str | None = None) -> list[tuple[str, str]]:
    return choices(ValueTier, include_retired, keep)


def category_codes(include_retired: bool = False) -> list[str]:
    return [row.code for row in entries(Category, include_retired)]


def category_exists(code: str | None, active_only: bool = True) -> bool:
    return bool(code) and any(row.code == code and (row.active or not active_only) for row in entries(Category, True))


def check_category(code: str | None, *, current: str | None = None) -> str | None:
    """The category code to store, or a Refusal (field "category"): unknown, or retired unless it is
    the case's `current` one (a retired category stays on old cases but is given to no new one)."""
    return _checked(Category, code, current, "category", UNKNOWN_CATEGORY, RETIRED_CATEGORY)


def check_tier(code: str | None, *, current: str | None = None) -> str:
    """The tier code to store (the default tier for none), or a Refusal (field "value_tier")."""
    return _checked(ValueTier, code or DEFAULT_TIER, current, "value_tier", UNKNOWN_TIER, RETIRED_TIER)


UNKNOWN_CATEGORY = _l("There is no such category.")
RETIRED_CATEGORY = _l("This category is retired: choose another.")
UNKNOWN_TIER = _l("There is no such value tier.")
RETIRED_TIER = _l("This value tier is retired: choose another.")


def _checked(model, code, current, field, unknown, retired):
    if not code:
        return None
    row = next((row for row in entries(model, True) if row.code == code), None)  # the request's one read
    if row is None:
        raise refusals.Refusal(unknown, status=refusals.UNPROCESSABLE, field=field)
    if not row.active and code != current:
        raise refusals.Refusal(retired, status=refusals.UNPROCESSABLE, field=field)
    return code


def high_value_tiers():
    """The codes of the tiers counted as high-value customers (a subquery)."""
    return select(ValueTier.code).where(ValueTier.high_value.is_(True)).scalar_subquery()


# -- products ---------------------------------------------------------------------------------------


def fold_name(text: str | None) -> str:
    """How a product's name or alias is matched: folded (search.text.fold) with runs of spaces made one."""
    return " ".join(fold(text).split())[:NAME_LENGTH]


def resolve_product(text: str | None) -> Product | None:
    """The product `text` names (one of its names or aliases, folded), or None when none does."""
    folded = fold_name(text)
    if not folded:
        return None
    return db.session.scalar(
        select(Product).join(ProductAlias, ProductAlias.product_id == Product.id).where(ProductAlias.folded == folded)
    )


def product_for(text: str | None, *, create: bool, actor=None) -> Product | None:
    """The product `text` names; with `create` (staff and the API), a new product named so when none
    does. A customer's words (create False) are linked only to a product that exists, so the portal
    cannot add to the catalogue."""
    found = resolve_product(text)
    if found is not None or not create or not fold_name(text):
        return found
    try:
        with db.session.begin_nested():
            return add_product(" ".join(text.split())[:NAME_LENGTH], None, actor)
    except IntegrityError:  # another intake named it at the same moment
        return resolve_product(text)


def add_product(name_en: str, name_zh: str | None, actor) -> Product:
    """A new active product and its names as aliases; the caller has checked no product has them."""
    product = Product(code=_free_code(fold_name(name_en)), name_en=name_en, name_zh=name_zh or name_en, active=True)
    db.session.add(product)
    db.session.flush()
    for name in dict.fromkeys(filter(None, (name_en, name_zh))):
        db.session.add(ProductAlias(product_id=product.id, alias=name, folded=fold_name(name)))
    log(actor, "product", product.id, "created", {}, {"name_en": product.name_en, "name_zh": product.name_zh})
    db.session.flush()
    forget()
    return product


def _free_code(folded: str) -> str:
    base = re.sub(r"[^\w]+", "-", folded).strip("-")[:60] or "product"
    taken = set(db.session.scalars(select(Product.code).where(Product.code.like(f"{base}%"))))
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def product_code(product_id: int | None) -> str | None:
    """A product's code by its id (read once per request)."""
    if product_id is None:
        return None
    known = g.setdefault("catalogue_codes", {})
    if product_id not in known:
        known[product_id] = db.session.scalar(select(Product.code).where(Product.id == product_id))
    return known[product_id]


def product_by_code(code: str | None) -> Product | None:
    """The product with this code; None for no code or one no product can have (a control
    character, which PostgreSQL would refuse to even compare)."""
    if not code or validation.has_unstorable_characters(code, multiline=False):
        return None
    return db.session.scalar(select(Product).where(Product.code == code))


def active_products() -> list[Product]:
    return list(
        db.session.scalars(
            select(Product).where(Product.active.is_(True), Product.merged_into_id.is_(None)).order_by(Product.name_en)
        )
    )


def log(actor, kind: str, item_id: int, action: str, before: dict, after: dict) -> CatalogueChange:
    change = CatalogueChange(
        kind=kind,
        item_id=item_id,
        action=action,
        before=before,
        after=after,
        actor_id=actor.id if actor is not None else None,
        created_at=utcnow(),
    )
    db.session.add(change)
    return change
