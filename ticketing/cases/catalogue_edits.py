"""Changing the catalogues: add, rename, retire and bring back categories, value tiers and products,
give a product another name (an alias), and merge two products into one. Each change is kept in
catalogue_changes (who, when, before and after); a product merge is logged on every case it moves.

Services stage changes and never commit; a rule that says no raises a Refusal.
"""

import re

from sqlalchemy import select, text, update

from ticketing import refusals
from ticketing.auth import security_log
from ticketing.cases import catalogue
from ticketing.cases.catalogue import DEFAULT_TIER, CatalogueChange, Category, Product, ProductAlias, ValueTier
from ticketing.cases.models import Ticket
from ticketing.cases.services.base import Change
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l

KINDS = {Category: "category", ValueTier: "tier", Product: "product"}
CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def _refuse(reason, field: str | None = None, status: int = refusals.UNPROCESSABLE):
    raise refusals.Refusal(reason, status=status, field=field)


def _names(name_en: str | None, name_zh: str | None) -> tuple[str, str]:
    """Both names trimmed, one line each; the English one is required, the Chinese falls back to it."""
    name_en, name_zh = " ".join((name_en or "").split()), " ".join((name_zh or "").split())
    if not name_en:
        _refuse(_l("Give the English name."), "name_en")
    return name_en, name_zh or name_en


def _fields(row) -> dict:
    fields = {"code": row.code, "name_en": row.name_en, "name_zh": row.name_zh, "active": row.active}
    if isinstance(row, Category | ValueTier):
        fields["position"] = row.position
    if isinstance(row, ValueTier):
        fields["high_value"] = row.high_value
    return fields


def _logged(row, actor, action: str, before: dict):
    after = _fields(row)
    changed = {name for name in after if before.get(name) != after[name]}
    _log(actor, KINDS[type(row)], row.id, action, {n: before.get(n) for n in changed}, {n: after[n] for n in changed})
    catalogue.forget()


def _log(actor, kind: str, item_id: int, action: str, before: dict, after: dict) -> None:
    """In the catalogue's history, and (an admin edit) in the security log."""
    catalogue.log(actor, kind, item_id, action, before, after)
    _secure(actor, kind, item_id, action, before, after)


def _secure(actor, kind: str, item_id: int, action: str, before: dict, after: dict) -> None:
    details = {"action": action, "before": before, "after": after}
    security_log.record(security_log.Kind.CATALOGUE_CHANGED, actor=actor, subject=(kind, item_id), details=details)


# -- categories and value tiers ------------------------------------------------------------------------


def add_entry(model, actor, *, code: str, name_en: str, name_zh: str, high_value: bool = False):
    """A new category or tier, offered at once, listed last. Its code is what cases and customers keep:
    lower-case letters, digits and underscores, unique, and never changed afterwards."""
    code = (code or "").strip()
    if not CODE.match(code):
        _refuse(_l("A code is lower-case letters, digits and _ (at most 32), starting with a letter."), "code")
    if db.session.scalar(select(model.id).where(model.code == code)) is not None:
        _refuse(_l("This code is taken."), "code", refusals.CONFLICT)
    name_en, name_zh = _names(name_en, name_zh)
    last = db.session.scalar(select(db.func.max(model.position))) or 0
    row = model(code=code, name_en=name_en, name_zh=name_zh, active=True, position=last + 10)
    if model is ValueTier:
        row.high_value = bool(high_value)
    db.session.add(row)
    db.session.flush()
    _logged(row, actor, "created", {})
    return row


def edit_entry(row, actor, *, name_en: str, name_zh: str, position: int, high_value: bool | None = None):
    """New names, place in the list (and for a tier, whether it is high-value). The cases keep the code,
    so every case reads the new name at once."""
    before = _fields(row)
    row.name_en, row.name_zh = _names(name_en, name_zh)
    row.position = int(position)
    if isinstance(row, ValueTier) and high_value is not None:
        row.high_value = bool(high_value)
    if _fields(row) == before:
        _refuse(_l("Nothing to save: these are the details already in the catalogue."))
    _logged(row, actor, "edited", before)
    return row


def set_active(row, actor, active: bool):
    """Retire an entry (it is offered no more; whatever has it keeps it and reads its name) or bring it back."""
    if row.active == active:
        _refuse(_l("It is already active.") if active else _l("It is already retired."), status=refusals.CONFLICT)
    if not active and isinstance(row, ValueTier) and row.code == DEFAULT_TIER:
        _refuse(_l("The standard tier is every new customer's: it cannot be retired."), status=refusals.CONFLICT)
    if active and isinstance(row, Product) and row.merged_into_id is not None:
        _refuse(_l("A merged product lives on in the one it was merged into."), status=refusals.CONFLICT)
    before = _fields(row)
    row.active = active
    _logged(row, actor, "activated" if active else "retired", before)
    return row


# -- products -------------------------------------------------------------------------------------------


def _free(text: str, product: Product | None, field: str) -> None:
    """Refused when `text` already means another product (one folded text, one product)."""
    holder = catalogue.resolve_product(text)
    if holder is not None and (product is None or holder.id != product.id):
        _refuse(
            _l("“%(text)s” already means the product %(name)s: merge the two instead.", text=text, name=holder.name),
            field,
            refusals.CONFLICT,
        )


def add_product(actor, *, name_en: str, name_zh: str) -> Product:
    name_en, name_zh = _names(name_en, name_zh)
    _free(name_en, None, "name_en")
    _free(name_zh, None, "name_zh")
    product = catalogue.add_product(name_en, name_zh, actor)  # logged in the catalogue's history
    _secure(actor, "product", product.id, "created", {}, {"name_en": product.name_en, "name_zh": product.name_zh})
    return product


def rename_product(product: Product, actor, *, name_en: str, name_zh: str) -> Product:
    """New names; the old ones stay aliases, so what was typed before still finds the product."""
    _check_live(product)
    before = _fields(product)
    name_en, name_zh = _names(name_en, name_zh)
    _free(name_en, product, "name_en")
    _free(name_zh, product, "name_zh")
    product.name_en, product.name_zh = name_en, name_zh
    if _fields(product) == before:
        _refuse(_l("Nothing to save: these are the details already in the catalogue."))
    for name in (name_en, name_zh):
        _add_alias_row(product, name)
    _logged(product, actor, "edited", before)
    return product


def add_alias(product: Product, actor, alias: str) -> ProductAlias:
    """Another name that means `product` (a model number, a name in a shop's list, a common typo)."""
    _check_live(product)
    alias = " ".join((alias or "").split())
    if not alias:
        _refuse(_l("Give the other name."), "alias")
    _free(alias, product, "alias")
    row = _add_alias_row(product, alias)
    if row is None:
        _refuse(_l("The product already has this name."), "alias", refusals.CONFLICT)
    _log(actor, "product", product.id, "alias", {}, {"alias": alias})
    catalogue.forget()
    return row


def _add_alias_row(product: Product, name: str) -> ProductAlias | None:
    folded = catalogue.fold_name(name)
    if db.session.scalar(select(ProductAlias.id).where(ProductAlias.folded == folded)) is not None:
        return None
    row = ProductAlias(product_id=product.id, alias=name, folded=folded)
    db.session.add(row)
    db.session.flush()
    return row


def _check_live(product: Product) -> None:
    if product.merged_into_id is not None:
        _refuse(_l("This product was merged into another: change that one."), status=refusals.CONFLICT)


def merge_refusal(source: Product, target: Product):
    """Why `source` cannot be merged into `target` now, or None (the confirmation page asks too)."""
    if source.id == target.id:
        return _l("A product cannot be merged into itself.")
    if source.merged_into_id is not None:
        return _l("%(name)s is already merged into another product.", name=source.name)
    if target.merged_into_id is not None:
        return _l("%(name)s was itself merged into another product: merge into that one.", name=target.name)
    return None


def merge_products(source: Product, target: Product, actor) -> list[str]:
    """Two products that are one: every case of `source` now names `target` (the text typed on each
    stays; each case logs the side action `product_merged` with both products, so its history keeps
    both names), the source's names and aliases become the target's aliases, and the source stays,
    retired and marked merged into the target. Both rows are locked first, in id order, so two merges
    at once wait for each other and the later one is refused. Returns the moved cases' references."""
    _lock(source, target)
    refused = merge_refusal(source, target)
    if refused is not None:
        _refuse(refused, status=refusals.CONFLICT)
    now = utcnow()
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.product_id == source.id).order_by(Ticket.id)))
    for ticket in tickets:
        change = Change(ticket, actor, "product_merged", now=now)
        change.changes["catalogue_product"] = (source.code, target.code)
        change.done()
    # One UPDATE, leaving the cases' versions alone (no colleague's open form goes stale).
    moved = update(Ticket).where(Ticket.product_id == source.id).values(product_id=target.id)
    db.session.execute(moved.execution_options(synchronize_session=False))
    db.session.execute(update(ProductAlias).where(ProductAlias.product_id == source.id).values(product_id=target.id))
    earlier = update(Product).where(Product.merged_into_id == source.id).values(merged_into_id=target.id)
    db.session.execute(earlier.execution_options(synchronize_session=False))
    for ticket in tickets:
        db.session.expire(ticket, ["product_id"])
    source.merged_into_id, source.active = target.id, False
    references = [ticket.reference for ticket in tickets]
    _log(actor, "product", source.id, "merged_into", {}, {"into": target.code, "cases": references})
    _log(actor, "product", target.id, "merged_in", {}, {"from": source.code, "cases": references})
    db.session.flush()
    catalogue.forget()
    return references


def _lock(*products: Product) -> None:
    """Serialise merges: PostgreSQL locks the rows in id order; SQLite takes its one write lock first."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("UPDATE products SET active = active WHERE 0"))
    ids = sorted(product.id for product in products)
    query = select(Product).where(Product.id.in_(ids)).order_by(Product.id).with_for_update()
    list(db.session.scalars(query.execution_options(populate_existing=True)))


def history(limit: int = 50) -> list[CatalogueChange]:
    """The latest changes to the catalogues, newest first."""
    return list(db.session.scalars(select(CatalogueChange).order_by(CatalogueChange.id.desc()).limit(limit)))
