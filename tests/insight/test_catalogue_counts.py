"""A product counts once however it is written: its spellings, its aliases and the products merged into
it are one row in the Pareto, one option of the filter and one series of the early warnings."""

import pytest

from tests.factories import open_case
from tests.insight.figures_data import period
from tests.insight.risk_data import T0, app  # noqa: F401 (app: the pinned app fixture)
from ticketing.cases import catalogue, catalogue_edits
from ticketing.cases import early_warning as warnings
from ticketing.cases.models import Ticket
from ticketing.extensions import db
from ticketing.insight import causes, volume
from ticketing.insight.filters import products


def complaint(actor, product, category="product"):
    return open_case(actor, category=category, product=product)


def rows(result) -> list[list]:
    return [[str(row[0]), row[1]] for row in result.rows]


@pytest.fixture
def blenders(app, frozen_clock, agent, supervisor):
    """Three spellings of one blender, one alias, and a second product that is really the same."""
    for typed in ("Blender B200", "blender  b200", "ＢＬＥＮＤＥＲ B200"):
        complaint(agent, typed)
    blender = catalogue.resolve_product("Blender B200")
    catalogue_edits.add_alias(blender, supervisor, "BL-200")
    db.session.commit()
    complaint(agent, "bl-200")
    twin = complaint(agent, "Blender B-200")
    complaint(agent, "Blender B-200 ")
    complaint(agent, "Kettle")
    return blender, db.session.get(catalogue.Product, twin.product_id)


def test_spellings_and_an_alias_count_once_in_the_pareto(blenders):
    blender, twin = blenders
    assert rows(causes.products(period())) == [["Blender B200", 4], ["Blender B-200", 2], ["Kettle", 1]]
    assert db.session.scalar(db.select(db.func.count()).select_from(catalogue.Product)) == 3


def test_a_merged_product_counts_once_in_the_pareto_the_filter_and_the_early_warnings(blenders, supervisor):
    blender, twin = blenders
    moved = catalogue_edits.merge_products(twin, blender, supervisor)
    db.session.commit()
    assert len(moved) == 2
    assert rows(causes.products(period())) == [["Blender B200", 6], ["Kettle", 1]]
    assert products(period().first_day, period().last_day, period().zone) == [
        ("blender-b200", "Blender B200"),
        ("kettle", "Kettle"),
    ]
    assert volume.volume(period(product="blender-b200")).headline["total"].value == 6
    assert warnings.weekly_counts("product", T0) == {"blender-b200": [0] * 8 + [6], "kettle": [0] * 8 + [1]}
    # what each case was given stays as typed
    typed = db.session.scalars(db.select(Ticket.product).where(Ticket.product_id == blender.id).order_by(Ticket.id))
    assert list(typed) == [
        "Blender B200",
        "blender  b200",
        "ＢＬＥＮＤＥＲ B200",
        "bl-200",
        "Blender B-200",
        "Blender B-200",
    ]


def test_the_early_warning_groups_a_product_by_the_catalogue_not_by_the_text(app, frozen_clock, agent):
    for typed in ("Kettle K-200", "kettle k-200", "KETTLE K-200", "Kettle  K-200"):
        complaint(agent, typed, category="delivery")
    [alert] = [s for s in warnings.current_alerts(T0) if s.kind == "product"]
    assert (alert.value, alert.label, alert.check.count) == ("kettle-k-200", "Kettle K-200", 4)


def test_a_product_is_named_in_the_readers_language(blenders, supervisor):
    blender, twin = blenders
    catalogue_edits.rename_product(blender, supervisor, name_en="Blender B200", name_zh="搅拌机 B200")
    db.session.commit()
    from flask_babel import force_locale

    with force_locale("zh_CN"):
        catalogue.forget()
        assert rows(causes.products(period()))[0] == ["搅拌机 B200", 4]
    complaint(supervisor, "搅拌机  b200")  # the Chinese name finds it too
    assert rows(causes.products(period()))[0] == ["Blender B200", 5]
