"""Migration 0015 on a database with cases: today's categories and tiers become catalogue rows, the
products typed so far become products grouped by their folded text, and downgrading gives it all back."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from config import TestConfig
from tests.test_migrations import empty_database_url  # noqa: F401 (the fixture)
from ticketing import create_app
from ticketing.extensions import db

TYPED = ["Blender B200", "blender  b200", "ＢＬＥＮＤＥＲ B200", "Blender B200", "Kettle", None]


def _cases(conn) -> None:
    conn.execute(
        text(
            "INSERT INTO customers (id, name, value_tier, locale, created_at, version) "
            "VALUES (1, 'Li Lei', 'gold', 'en', '2026-11-01 09:00:00+00:00', 1)"
        )
    )
    for n, product in enumerate(TYPED, 1):
        conn.execute(
            text(
                "INSERT INTO tickets (id, reference, customer_id, subject, description, channel, category, product, "
                "priority, priority_rank, step, status, resolution_state, created_at, updated_at, response_due_at, "
                "resolution_due_at, version) VALUES (:n, :ref, 1, 'S', 'D', 'phone', 'delivery', :product, 'normal', "
                "2, 'listen', 'open', 'none', :at, :at, :at, :at, 1)"
            ),
            dict(n=n, ref=f"C-2026-{n:06d}", product=product, at="2026-11-01 09:00:00+00:00"),
        )


def test_products_typed_so_far_become_one_product_per_folded_text(empty_database_url):
    config = type("MigrationConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": empty_database_url})
    app = create_app(config)
    with app.app_context():
        upgrade(revision="0014_desk_settings")
        with db.engine.begin() as conn:
            _cases(conn)
        upgrade()
        with db.engine.connect() as conn:
            categories = conn.execute(text("SELECT code, name_en, name_zh FROM categories ORDER BY position")).all()
            tiers = conn.execute(text("SELECT code, high_value FROM value_tiers ORDER BY position")).all()
            products = conn.execute(text("SELECT id, code, name_en FROM products ORDER BY code")).all()
            aliases = conn.execute(text("SELECT product_id, folded FROM product_aliases ORDER BY folded")).all()
            links = dict(conn.execute(text("SELECT id, product_id FROM tickets")).all())
            typed = dict(conn.execute(text("SELECT id, product FROM tickets")).all())
        downgrade(revision="0014_desk_settings")
        with db.engine.connect() as conn:
            kept = dict(conn.execute(text("SELECT id, product FROM tickets")).all())
        db.engine.dispose()
    assert categories[0] == ("product", "Product quality", "商品质量") and len(categories) == 7
    assert [(code, bool(high)) for code, high in tiers] == [
        ("standard", False),
        ("silver", False),
        ("gold", True),
        ("vip", True),
    ]
    (blender, blender_code, blender_name), (kettle, kettle_code, _name) = products
    assert (blender_code, blender_name, kettle_code) == ("blender-b200", "Blender B200", "kettle")
    assert aliases == [(blender, "blender b200"), (kettle, "kettle")]
    assert links == {1: blender, 2: blender, 3: blender, 4: blender, 5: kettle, 6: None}
    assert typed == kept == dict(enumerate(TYPED, 1))  # what was typed stays, through both ways
