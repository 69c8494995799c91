"""The API reference page in Chinese: the title, every summary, description, field note and answer
of the OpenAPI document (which itself stays English) has its Chinese (ticketing/api/docs_text.py)."""

from flask_babel import force_locale

from ticketing.api.docs_text import page_text
from ticketing.api.openapi import document, operations, schema_fields


def _texts() -> list[str]:
    texts = [document()["info"]["title"]]
    for op in operations():
        texts += [op["summary"], op["description"]] + [text for _code, text, _body in op["responses"]]
        texts += [p.get("description", "") for p in op["parameters"]] + [p["in"] for p in op["parameters"]]
        texts += [field["description"] for field in schema_fields(op["body"])] if op["body"] else []
    return [text for text in dict.fromkeys(texts) if text]


def test_every_text_of_the_reference_page_has_its_chinese(app):
    with app.test_request_context(), force_locale("zh_CN"):
        untranslated = [text for text in _texts() if page_text(text) == text]
    assert untranslated == []


def test_the_chinese_page_shows_them_and_the_json_stays_english(client):
    page = client.get("/api/v1/docs", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "服务补救台 API" in page and "从其他系统接收投诉" in page and "令牌为只读" in page
    assert "Take a complaint from another system" not in page and "Success." not in page
    served = client.get("/api/v1/openapi.json", headers={"Accept-Language": "zh-CN"}).get_json()
    assert served["info"]["title"] == "Service Recovery Desk API"
