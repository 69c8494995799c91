"""The catalogues through the API: listed for any token, and the codes a complaint is checked against."""

from tests.api.payloads import complaint, problem
from ticketing.cases import catalogue, catalogue_edits
from ticketing.cases.catalogue import Category
from ticketing.extensions import db

URL = "/api/v1/tickets"


def test_any_token_lists_the_categories_products_and_tiers(make_api, agent, supervisor):
    kettle = catalogue.product_for("Kettle K2", create=True, actor=agent)
    catalogue_edits.add_alias(kettle, supervisor, "KK2")
    twin = catalogue.product_for("Kettle K-2", create=True, actor=agent)
    catalogue_edits.merge_products(twin, kettle, supervisor)
    db.session.commit()
    body = make_api(agent, read_only=True).get("/api/v1/catalogues").get_json()
    assert body["categories"][0] == {
        "code": "product",
        "name_en": "Product quality",
        "name_zh": "商品质量",
        "active": True,
    }
    assert [tier["code"] for tier in body["value_tiers"] if tier["high_value"]] == ["gold", "vip"]
    products = {product["code"]: product for product in body["products"]}
    assert products["kettle-k2"]["aliases"] == ["KK2", "Kettle K-2"]
    assert (products["kettle-k-2"]["merged_into"], products["kettle-k-2"]["active"]) == ("kettle-k2", False)


def test_a_complaint_names_its_product_and_an_active_category(api):
    created = api.post(URL, json=complaint(product="  kettle   K2 ")).get_json()
    again = api.post(URL, json=complaint(customer={"email": "han@example.com", "phone": None})).get_json()
    assert created["product"] == "kettle   K2" and created["product_code"] == again["product_code"] == "kettle-k2"


def test_a_retired_category_is_refused_for_a_new_complaint_but_still_filters_the_list(api, supervisor):
    api.post(URL, json=complaint(category="billing"))
    billing = db.session.scalar(db.select(Category).where(Category.code == "billing"))
    catalogue_edits.set_active(billing, supervisor, False)
    db.session.commit()
    [error] = problem(api.post(URL, json=complaint(category="billing")), 422)["errors"]
    assert error["field"] == "category" and error["type"] == "enum" and "billing" not in error["message"]
    assert len(api.get(f"{URL}?category=billing").get_json()["items"]) == 1


def test_the_openapi_document_lists_the_catalogues(api):
    document = api.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/catalogues"]["get"]
    assert operation["operationId"] == "listCatalogues"
    assert "Catalogues" in document["components"]["schemas"]
