"""What the API says about the catalogues: every category, product and value tier with its code,
its names in English and Chinese and whether it is offered (active) — the codes cases and customers
carry."""

from pydantic import BaseModel, Field

from ticketing.cases import catalogue
from ticketing.cases.catalogue import Category, Product, ProductAlias, ValueTier
from ticketing.extensions import db


class Entry(BaseModel):
    code: str
    name_en: str
    name_zh: str
    active: bool = Field(description="Offered for new cases; a retired entry stays on the cases that have it.")


class TierOut(Entry):
    high_value: bool = Field(description="Customers of this tier count as high-value (customers at risk).")


class ProductOut(Entry):
    aliases: list[str] = Field(description="Other names that mean this product (matched ignoring case and width).")
    merged_into: str | None = Field(description="The product this one was merged into: its cases are there now.")


class Catalogues(BaseModel):
    categories: list[Entry] = Field(description="In the order the desk lists them.")
    products: list[ProductOut]
    value_tiers: list[TierOut] = Field(description="In the order the desk lists them.")


def _entry(row) -> dict:
    return {"code": row.code, "name_en": row.name_en, "name_zh": row.name_zh, "active": row.active}


def catalogues() -> Catalogues:
    products = list(db.session.scalars(db.select(Product).order_by(Product.code)))
    codes = {product.id: product.code for product in products}
    aliases: dict[int, list[str]] = {}
    for alias in db.session.scalars(db.select(ProductAlias).order_by(ProductAlias.id)):
        aliases.setdefault(alias.product_id, []).append(alias.alias)
    return Catalogues(
        categories=[Entry(**_entry(row)) for row in catalogue.entries(Category, include_retired=True)],
        products=[
            ProductOut(
                **_entry(product),
                aliases=[
                    name for name in aliases.get(product.id, []) if name not in (product.name_en, product.name_zh)
                ],
                merged_into=codes.get(product.merged_into_id),
            )
            for product in products
        ],
        value_tiers=[
            TierOut(**_entry(row), high_value=row.high_value)
            for row in catalogue.entries(ValueTier, include_retired=True)
        ],
    )
