"""What the catalogues page shows: every entry with how many cases (or customers) have it, each
product's aliases, and the latest changes in words."""

from sqlalchemy import func, select

from ticketing.auth.models import User
from ticketing.cases import catalogue, catalogue_edits
from ticketing.cases.catalogue import Category, Product, ProductAlias, ValueTier
from ticketing.cases.models import Customer, Ticket
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l

KIND_LABELS = {"category": _l("Category"), "tier": _l("Value tier"), "product": _l("Product")}
ACTION_LABELS = {
    "created": _l("added"),
    "edited": _l("changed"),
    "retired": _l("retired"),
    "activated": _l("brought back"),
    "alias": _l("another name added"),
    "merged_into": _l("merged into another product"),
    "merged_in": _l("another product merged in"),
}
FIELD_LABELS = {
    "name_en": _l("English name"),
    "name_zh": _l("Chinese name"),
    "position": _l("Place"),
    "active": _l("Active"),
    "high_value": _l("High-value"),
    "code": _l("Code"),
    "alias": _l("Another name"),
    "into": _l("Merged into"),
    "from": _l("Merged in"),
    "cases": _l("Cases moved"),
}


def _counts(column, *where) -> dict:
    return dict(db.session.execute(select(column, func.count()).where(*where).group_by(column)).all())


def page_data() -> dict:
    products = list(db.session.scalars(select(Product).order_by(Product.name_en, Product.id)))
    return {
        "categories": catalogue.entries(Category, include_retired=True),
        "tiers": catalogue.entries(ValueTier, include_retired=True),
        "products": [product for product in products if product.merged_into_id is None],
        "merged": [product for product in products if product.merged_into_id is not None],
        "names": {product.id: product.name for product in products},
        "aliases": aliases(),
        "case_counts": {
            "category": _counts(Ticket.category, Ticket.category.is_not(None)),
            "product": _counts(Ticket.product_id, Ticket.product_id.is_not(None)),
            "tier": _counts(Customer.value_tier, Customer.merged_into_id.is_(None)),
        },
        "history": [describe(change) for change in catalogue_edits.history(30)],
    }


def aliases(product: Product | None = None) -> dict[int, list[str]]:
    """product id -> its other names (not its own English or Chinese name), oldest first."""
    query = select(ProductAlias, Product.name_en, Product.name_zh).join(Product, Product.id == ProductAlias.product_id)
    if product is not None:
        query = query.where(Product.id == product.id)
    found: dict[int, list[str]] = {}
    for alias, name_en, name_zh in db.session.execute(query.order_by(ProductAlias.id)):
        names = {catalogue.fold_name(name_en), catalogue.fold_name(name_zh)}
        if alias.folded not in names:
            found.setdefault(alias.product_id, []).append(alias.alias)
    return found


def case_count(product: Product) -> int:
    return db.session.scalar(select(func.count(Ticket.id)).where(Ticket.product_id == product.id)) or 0


def merge_targets(product: Product) -> list[tuple[str, str]]:
    """(code, name) of every product `product` may be merged into: any other that is not merged."""
    query = select(Product).where(Product.merged_into_id.is_(None), Product.id != product.id)
    return [(other.code, other.name) for other in db.session.scalars(query.order_by(Product.name_en))]


def describe(change) -> dict:
    """A change as the history table shows it: when, who, what, and each field before and after."""
    model = {"category": Category, "tier": ValueTier, "product": Product}[change.kind]
    item = db.session.get(model, change.item_id)
    fields = dict.fromkeys([*change.before, *change.after])
    return {
        "change": change,
        "who": db.session.get(User, change.actor_id).name if change.actor_id else _l("the system"),
        "kind": KIND_LABELS[change.kind],
        "item": item.name if item is not None else f"#{change.item_id}",
        "action": ACTION_LABELS.get(change.action, change.action),
        "fields": [
            (FIELD_LABELS.get(name, name), _shown(name, change.before.get(name)), _shown(name, change.after.get(name)))
            for name in fields
        ],
    }


def _shown(name: str, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if name in ("into", "from"):
        return catalogue.product_label(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return str(value)
