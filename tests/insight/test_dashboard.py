"""The Insight dashboard page and its CSV exports, through the test client."""

import re

import pytest
from markupsafe import escape

from tests.conftest import login
from tests.factories import open_case
from tests.insight.figures_data import build
from ticketing.cases import services
from ticketing.extensions import db
from ticketing.insight.figures import FIGURES

NOVEMBER = "date_from=2026-11-01&date_to=2026-11-30"


@pytest.fixture
def story(app, frozen_clock, agent, make_user, supervisor):
    return build(frozen_clock, agent, make_user("agent", "bob@example.com", "Bob Agent"), supervisor)


def page_for(client, user, query=NOVEMBER):
    login(client, user.email)
    response = client.get(f"/insight/?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def csv_lines(response) -> list[str]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return text[1:].splitlines()


def test_every_figure_has_its_definition_picture_table_and_csv_link(client, supervisor, story):
    page = page_for(client, supervisor)
    for key, figure in FIGURES.items():
        block = page.split(f'id="figure-{key}"')[1].split("</article>")[0]
        assert str(escape(figure.definition)) in block, key
        assert f'href="/insight/export/{key}.csv?date_from=2026-11-01&amp;date_to=2026-11-30"' in block, key
        assert "<svg" in block and "<details" in block and "<title" in block, key
    assert "No cases in this period" not in page


def test_charts_carry_hover_text_and_no_inline_style_or_script(client, supervisor, story):
    page = page_for(client, supervisor)
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == len(FIGURES)
    assert all('role="img"' in svg and "style=" not in svg and "<script" not in svg for svg in svgs)
    assert "<title>Product quality · 3 (60.0%)</title>" in page  # the category bar's hover text
    assert page.count("<script") == 1  # only app.js


def test_key_numbers_at_the_top(client, supervisor, story):
    page = page_for(client, supervisor)
    tiles = page.split('class="tiles"')[1].split("</ul>")[0]
    for value, label in [
        ("5", "Cases opened"),
        ("50.0%", "First responses on time"),
        ("33.3%", "First-contact resolution"),
        ("66.7%", "Retention rate"),
        ("33.3%", "Churn rate"),
        ("3.33", "Average satisfaction (1-5)"),
        ("0", "Net Promoter Score"),
    ]:
        assert re.search(
            rf'tile-value">{re.escape(value)}</span>\s*<span class="tile-label">{re.escape(label)}', tiles
        ), label


def test_an_empty_period_says_so(client, supervisor):
    page = page_for(client, supervisor, "")
    assert "No cases in this period." in page and "<svg" not in page


def test_agents_may_not_see_the_dashboard_or_its_exports(client, agent):
    login(client, agent.email)
    assert client.get("/insight/").status_code == 403
    assert client.get("/insight/export/volume.csv").status_code == 403


def test_the_csv_is_the_figure_table_for_the_same_filters(client, supervisor, story):
    login(client, supervisor.email)
    response = client.get(f"/insight/export/categories.csv?{NOVEMBER}&channel=phone")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="insight-categories-20261101-20261130.csv"'
    assert csv_lines(response) == [
        "Category,Number of cases,Share",
        "Product quality,3,100.00",
        "Delivery,0,0.00",
        "Billing,0,0.00",
        "Service attitude,0,0.00",
        "Installation,0,0.00",
        "After-sales,0,0.00",
        "Other,0,0.00",
    ]


def test_the_csv_has_plain_numbers_dates_and_money(client, supervisor, story):
    login(client, supervisor.email)
    times = csv_lines(client.get(f"/insight/export/handling_times.csv?{NOVEMBER}"))
    assert times == [
        "From intake to,Cases measured,Median,90th percentile",
        "First response,3,2.00,3.00",
        "Apology,3,2.00,4.00",
        "Resolution carried out,3,12.00,60.00",
    ]
    volume = csv_lines(client.get(f"/insight/export/volume.csv?{NOVEMBER}"))
    assert volume[:3] == ["Period from,Cases opened", "2026-11-01,1", "2026-11-02,1"]
    money = csv_lines(client.get(f"/insight/export/compensation.csv?{NOVEMBER}"))
    assert money[1] == "Refund,Economic,3,140.00,CNY"


def test_the_csv_is_in_the_readers_language(client, make_user, story):
    reader = make_user("supervisor", "zhou@example.com", "周主管", locale="zh_CN")
    login(client, reader.email)
    lines = csv_lines(client.get(f"/insight/export/channels.csv?{NOVEMBER}"))
    assert lines[:2] == ["渠道,案件数量,占比", "电话,3,60.00"]


def test_csv_cells_cannot_run_as_formulas(client, supervisor, agent, frozen_clock):
    customer = services.find_or_create_customer("Eve", "eve@example.com", None)
    services.take_complaint(
        agent, customer=customer, subject="S", description="D", channel="phone", product='=HYPERLINK("http://evil")'
    )
    db.session.commit()
    login(client, supervisor.email)
    lines = csv_lines(client.get("/insight/export/products.csv"))
    assert lines[1].startswith("\"'=HYPERLINK(")


def test_an_unknown_figure_is_not_found(client, supervisor):
    login(client, supervisor.email)
    assert client.get("/insight/export/nothing.csv").status_code == 404


def test_bad_filters_are_explained_and_ignored(client, supervisor, story):
    page = page_for(client, supervisor, "date_from=2026-11-01&date_to=2026-10-01&product=Nope&channel=fax")
    assert "The end of the period comes before its start." in page
    assert page.count("Not a valid choice") == 2
    assert 'id="figure-volume"' in page  # the rest still applies: November 1 until today


def test_filters_are_kept_in_the_form_and_the_csv_links(client, supervisor, story):
    page = page_for(client, supervisor, f"{NOVEMBER}&category=product&assignee={story.one.assignee_id}")
    assert '<option selected value="product">' in page
    assert (
        f"/insight/export/volume.csv?date_from=2026-11-01&amp;date_to=2026-11-30&amp;category=product"
        f"&amp;assignee={story.one.assignee_id}" in page
    )


def test_the_dashboard_reads_in_chinese(client, make_user, story):
    reader = make_user("supervisor", "zhou@example.com", "周主管", locale="zh_CN")
    page = page_for(client, reader)
    assert "商品质量" in page and "已留住" in page
    assert "Where complaints come from" not in page and "Retention rate" not in page


def test_supervisors_find_the_dashboard_in_the_menu(client, supervisor, agent):
    open_case(agent)
    login(client, supervisor.email)
    assert 'href="/insight/"' in client.get("/queue").get_data(as_text=True)


def test_the_product_filter_offers_the_products_of_the_period(client, supervisor, story):
    november = page_for(client, supervisor)
    # the catalogue's products, by code, named in the reader's language
    assert all(f'<option value="{name.lower()}">{name}</option>' in november for name in ("Kettle", "Sofa", "Toaster"))
    assert '<option value="lamp">' not in november  # named only on October's cases
    december = page_for(client, supervisor, "date_from=2026-12-01&date_to=2026-12-31&product=kettle")
    assert '<option value="sofa">' not in december
    assert '<option selected value="kettle">Kettle</option>' in december and "Not a valid choice" not in december
