"""The catalogues page: supervisors and admins add, rename, retire, alias and merge, in English and
Chinese; the desk offers what is active and keeps showing what was retired."""

from sqlalchemy import select

from tests.conftest import login
from tests.factories import open_case
from ticketing.cases import catalogue
from ticketing.cases.catalogue import CatalogueChange, Category, Product
from ticketing.cases.models import Ticket
from ticketing.extensions import db


def take(actor, *, category=None, product=None):
    return open_case(actor, category=category, product=product)


def test_supervisors_and_admins_open_the_page_agents_do_not(app, agent, supervisor, admin):
    client = app.test_client()
    login(client, agent.email)
    assert client.get("/admin/catalogues/").status_code == 403
    for user in (supervisor, admin):
        client = app.test_client()
        login(client, user.email)
        page = client.get("/admin/catalogues/").get_data(as_text=True)
        assert "Product quality" in page and "商品质量" in page and "Value tiers" in page


def test_the_page_reads_in_chinese(client, make_user, agent):
    take(agent, product="Blender B200")
    reader = make_user("supervisor", "zhou@example.com", "周主管", locale="zh_CN")
    login(client, reader.email)
    page = client.get("/admin/catalogues/").get_data(as_text=True)
    assert "目录" in page and "客户等级" in page and "停用" in page and "Value tiers" not in page
    product = client.get(f"/admin/catalogues/products/{catalogue.resolve_product('Blender B200').id}")
    assert "合并到另一个产品" in product.get_data(as_text=True)


def test_a_category_added_on_the_page_is_offered_at_intake_and_retiring_it_keeps_old_cases_named(
    client, supervisor, agent
):
    login(client, supervisor.email)
    response = client.post(
        "/admin/catalogues/categories/new",
        data={
            "category-code": "warranty",
            "category-name_en": "Warranty",
            "category-name_zh": "保修",
        },
    )
    assert response.status_code == 302
    assert 'value="warranty"' in client.get("/intake").get_data(as_text=True)
    old = take(agent, category="warranty")
    row = db.session.scalar(select(Category).where(Category.code == "warranty"))
    response = client.post(f"/admin/catalogues/categories/{row.id}/active", data={"active": "0"})
    assert response.status_code == 302
    assert 'value="warranty"' not in client.get("/intake").get_data(as_text=True)
    assert "Warranty" in client.get(f"/tickets/{old.reference}").get_data(as_text=True)
    actions = db.session.scalars(select(CatalogueChange.action).where(CatalogueChange.item_id == row.id))
    assert list(actions) == ["created", "retired"]


def test_a_bad_code_or_a_taken_one_is_refused_next_to_the_field(client, supervisor):
    login(client, supervisor.email)
    for code, reason in (("Bad Code!", "lower-case letters"), ("billing", "This code is taken.")):
        response = client.post(
            "/admin/catalogues/categories/new",
            data={"category-code": code, "category-name_en": "X"},
        )
        assert response.status_code in (409, 422) and reason in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Category)) == 7


def test_renaming_a_category_renames_it_on_every_case(client, supervisor, agent):
    ticket = take(agent, category="billing")
    login(client, supervisor.email)
    row = db.session.scalar(select(Category).where(Category.code == "billing"))
    url = f"/admin/catalogues/categories/{row.id}"
    response = client.post(
        url,
        data={
            "name_en": "Billing and refunds",
            "name_zh": "账单与退款",
            "position": "30",
        },
    )
    assert response.status_code == 302
    assert "Billing and refunds" in client.get(f"/tickets/{ticket.reference}").get_data(as_text=True)


def test_an_alias_and_a_merge_from_the_page(client, supervisor, agent):
    kept = take(agent, product="Blender B200")
    moved = take(agent, product="Blendr 200")
    login(client, supervisor.email)
    target = db.session.get(Product, kept.product_id)
    source = db.session.get(Product, moved.product_id)
    url = f"/admin/catalogues/products/{target.id}"
    response = client.post(f"{url}/aliases", data={"alias": "BL-200"})
    assert response.status_code == 302 and catalogue.resolve_product("bl-200") == target
    confirm = client.get(f"/admin/catalogues/products/{source.id}/merge?into={target.code}").get_data(as_text=True)
    assert "Merge Blendr 200 into Blender B200?" in confirm and "1 case moves to Blender B200" in confirm
    response = client.post(f"/admin/catalogues/products/{source.id}/merge", data={"into": target.code})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, moved.id).product_id == target.id
    assert "Blendr 200" in client.get(url).get_data(as_text=True)  # now one of the kept product's other names
    log = client.get(f"/tickets/{moved.reference}").get_data(as_text=True)
    assert "Products merged" in log


def test_a_merge_without_the_forms_token_changes_nothing(app, client, supervisor, agent):
    kept = take(agent, product="Blender B200")
    moved = take(agent, product="Blendr 200")
    login(client, supervisor.email)
    app.config["WTF_CSRF_ENABLED"] = True
    target = db.session.get(Product, kept.product_id)
    response = client.post(f"/admin/catalogues/products/{moved.product_id}/merge", data={"into": target.code})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Ticket, moved.id).product_id != target.id


def test_the_intake_suggests_the_active_products(client, agent):
    take(agent, product="Blender B200")
    login(client, agent.email)
    page = client.get("/intake").get_data(as_text=True)
    assert '<datalist id="product-names"><option value="Blender B200">' in page
