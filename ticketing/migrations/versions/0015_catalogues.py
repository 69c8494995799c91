"""catalogues: categories, products (with aliases) and value tiers as data, in English and Chinese

Revision ID: 0015_catalogues
Revises: 0014_desk_settings
Create Date: 2026-12-01 19:00:00

Categories and value tiers were closed lists in the code; they become rows seeded with today's
codes and their English and Chinese names, so a supervisor can rename, add or retire one. Products
were free text on each case: the distinct texts already typed become products, grouped by their
folded form (case, full-width forms and runs of spaces ignored), so "Blender B200" and
"blender  b200" are one product named by its most frequent spelling; each case is linked to its
product (tickets.product_id) and keeps the text as typed. Case categories and customer tiers stay
string codes, checked against the catalogues by the domain.
"""

import re
import unicodedata
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015_catalogues"
down_revision = "0014_desk_settings"
branch_labels = None
depends_on = None

# Written out as they were when this migration was made (it must not change when the code does).
CATEGORIES = [
    ("product", "Product quality", "商品质量"),
    ("delivery", "Delivery", "配送"),
    ("billing", "Billing", "账单与收费"),
    ("service", "Service attitude", "服务态度"),
    ("installation", "Installation", "安装"),
    ("after_sales", "After-sales", "售后服务"),
    ("other", "Other", "其他"),
]
TIERS = [
    ("standard", "Standard", "普通", False),
    ("silver", "Silver", "银卡", False),
    ("gold", "Gold", "金卡", True),
    ("vip", "VIP", "VIP", True),
]
PRODUCT_INDEX = "ix_tickets_product_status_closed_at"
PRODUCT_ID_INDEX = "ix_tickets_product_id_status_closed_at"


def _fold(text):
    """The folded form products are matched by: NFKC, case folded, runs of spaces made one."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def _slug(folded):
    return re.sub(r"[^\w]+", "-", folded).strip("-")[:60] or "product"


def _named_columns():
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("name_zh", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    ]


def _named_tables():
    op.create_table(
        "categories",
        *_named_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_categories_code")),
    )
    op.create_table(
        "value_tiers",
        *_named_columns(),
        sa.Column("high_value", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_tiers")),
        sa.UniqueConstraint("code", name=op.f("uq_value_tiers_code")),
    )


def _product_tables():
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("name_zh", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["merged_into_id"], ["products.id"], name=op.f("fk_products_merged_into_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("code", name=op.f("uq_products_code")),
    )
    op.create_index(op.f("ix_products_merged_into_id"), "products", ["merged_into_id"], unique=False)
    op.create_table(
        "product_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=120), nullable=False),
        sa.Column("folded", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_product_aliases_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_aliases")),
        sa.UniqueConstraint("folded", name=op.f("uq_product_aliases_folded")),
    )
    op.create_index(op.f("ix_product_aliases_product_id"), "product_aliases", ["product_id"], unique=False)
    op.create_table(
        "catalogue_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_catalogue_changes_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_changes")),
    )
    op.create_index("ix_catalogue_changes_kind_item_id", "catalogue_changes", ["kind", "item_id"], unique=False)


def _link_tickets():
    """tickets.product_id, with the index precedents walk (it replaces the one on the product's text).
    SQLite adds the column with its reference in place: a rebuilt tickets table would have to be
    dropped while the record log and everything else still refer to it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE tickets ADD COLUMN product_id INTEGER "
            "CONSTRAINT fk_tickets_product_id_products REFERENCES products (id)"
        )
    else:
        op.add_column("tickets", sa.Column("product_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_tickets_product_id_products"), "tickets", "products", ["product_id"], ["id"])
    op.drop_index(PRODUCT_INDEX, table_name="tickets")
    op.create_index(PRODUCT_ID_INDEX, "tickets", ["product_id", "status", "closed_at"], unique=False)


def _seed_named():
    categories = sa.table("categories", *(sa.column(n) for n in ("code", "name_en", "name_zh", "active", "position")))
    tiers = sa.table(
        "value_tiers", *(sa.column(n) for n in ("code", "name_en", "name_zh", "active", "position", "high_value"))
    )
    op.bulk_insert(
        categories,
        [
            dict(code=code, name_en=en, name_zh=zh, active=True, position=10 * (n + 1))
            for n, (code, en, zh) in enumerate(CATEGORIES)
        ],
    )
    op.bulk_insert(
        tiers,
        [
            dict(code=code, name_en=en, name_zh=zh, active=True, position=10 * (n + 1), high_value=high)
            for n, (code, en, zh, high) in enumerate(TIERS)
        ],
    )


def _seed_products():
    """One product per folded text already on the cases, named by its most frequent spelling; every
    case with that text is linked to it."""
    conn = op.get_bind()
    now = datetime.now(timezone.utc)
    groups: dict[str, list] = {}
    for text, count in conn.execute(
        sa.text("SELECT product, COUNT(*) FROM tickets WHERE product IS NOT NULL GROUP BY product")
    ):
        folded = _fold(text)[:120]
        if folded:
            groups.setdefault(folded, []).append((text, count))
    codes = set()
    for folded, spellings in sorted(groups.items()):
        spellings.sort(key=lambda spelling: (-spelling[1], spelling[0]))
        name = " ".join(spellings[0][0].split())[:120]
        code, n = _slug(folded), 1
        while code in codes:
            n += 1
            code = f"{_slug(folded)}-{n}"
        codes.add(code)
        product_id = conn.execute(
            sa.text(
                "INSERT INTO products (code, name_en, name_zh, active, created_at) "
                "VALUES (:code, :name, :name, :active, :now) RETURNING id"
            ),
            dict(code=code, name=name, active=True, now=now),
        ).scalar_one()
        conn.execute(
            sa.text("INSERT INTO product_aliases (product_id, alias, folded, created_at) VALUES (:p, :a, :f, :now)"),
            dict(p=product_id, a=name, f=folded, now=now),
        )
        update = sa.text("UPDATE tickets SET product_id = :p WHERE product IN :texts").bindparams(
            sa.bindparam("texts", expanding=True)
        )
        conn.execute(update, dict(p=product_id, texts=[text for text, _count in spellings]))


def upgrade():
    _named_tables()
    _product_tables()
    _link_tickets()
    _seed_named()
    _seed_products()


def downgrade():
    op.drop_index(PRODUCT_ID_INDEX, table_name="tickets")
    op.create_index(PRODUCT_INDEX, "tickets", ["product", "status", "closed_at"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA foreign_keys=OFF")  # the rebuilt tickets table is referenced by every other
        with op.batch_alter_table("tickets", recreate="always") as batch:
            batch.drop_column("product_id")
        op.execute("PRAGMA foreign_keys=ON")
    else:
        op.drop_constraint(op.f("fk_tickets_product_id_products"), "tickets", type_="foreignkey")
        op.drop_column("tickets", "product_id")
    op.drop_index("ix_catalogue_changes_kind_item_id", table_name="catalogue_changes")
    op.drop_table("catalogue_changes")
    op.drop_index(op.f("ix_product_aliases_product_id"), table_name="product_aliases")
    op.drop_table("product_aliases")
    op.drop_index(op.f("ix_products_merged_into_id"), table_name="products")
    op.drop_table("products")
    op.drop_table("value_tiers")
    op.drop_table("categories")
