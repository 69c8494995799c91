"""The catalogues' rules: what intake accepts and offers, what a customer's words may add, how a product
is found by its names, and what merging two products does to their cases and their history."""

import pytest
from sqlalchemy import func, select

from tests.factories import open_case
from tests.portal.test_portal import submit
from ticketing import refusals
from ticketing.cases import catalogue, catalogue_edits, customers, services
from ticketing.cases.catalogue import CatalogueChange, Category, Product, ValueTier
from ticketing.cases.log_text import describe
from ticketing.cases.models import Ticket
from ticketing.cases.queries import case_events
from ticketing.extensions import db


def take(actor, *, category=None, product=None):
    return open_case(actor, category=category, product=product)


def category(code) -> Category:
    return db.session.scalar(select(Category).where(Category.code == code))


def product_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Product))


def test_a_new_desk_starts_with_todays_categories_and_tiers_in_both_languages(app):
    assert catalogue.category_codes() == [
        "product",
        "delivery",
        "billing",
        "service",
        "installation",
        "after_sales",
        "other",
    ]
    assert (category("billing").name_en, category("billing").name_zh) == ("Billing", "账单与收费")
    high = db.session.scalars(select(ValueTier.code).where(ValueTier.high_value.is_(True)))
    assert sorted(high) == ["gold", "vip"]


def test_a_retired_category_is_offered_no_more_but_old_cases_keep_its_name(agent, supervisor):
    old = take(agent, category="installation")
    catalogue_edits.set_active(category("installation"), supervisor, False)
    db.session.commit()
    assert "installation" not in dict(catalogue.category_choices())
    assert "installation" in dict(catalogue.all_category_choices())  # the filters still find old cases
    assert catalogue.category_label(old.category) == "Installation"
    with pytest.raises(refusals.Refusal) as refused:
        take(agent, category="installation")
    assert refused.value.field == "category" and "retired" in str(refused.value.reason)
    db.session.rollback()
    with pytest.raises(refusals.Refusal):
        take(agent, category="weather")


def test_staff_intake_adds_a_product_it_does_not_know_and_finds_it_again_however_written(agent):
    first = take(agent, product="Blender B200")
    again = take(agent, product="  ＢＬＥＮＤＥＲ   b200 ")
    assert first.product_id == again.product_id and product_count() == 1
    assert again.product == "ＢＬＥＮＤＥＲ   b200"  # kept as typed (trimmed)
    created = db.session.scalars(select(CatalogueChange).where(CatalogueChange.kind == "product")).one()
    assert (created.action, created.actor_id, created.after["name_en"]) == ("created", agent.id, "Blender B200")


def test_the_portals_unknown_product_is_kept_as_typed_but_not_added_to_the_catalogue(client, agent):
    submit(client, product="Mystery gadget 9000")
    ticket = db.session.scalars(select(Ticket)).one()
    assert (ticket.product, ticket.product_id, product_count()) == ("Mystery gadget 9000", None, 0)


def test_the_portals_words_link_to_a_product_the_catalogue_has(client, agent):
    known = take(agent, product="订单 88231 电饭煲")
    submit(client)  # the same words, from a customer
    linked = db.session.scalars(select(Ticket).where(Ticket.channel == "web")).one()
    assert linked.product_id == known.product_id and product_count() == 1


def test_a_name_another_product_has_is_refused_for_an_alias_or_a_new_product(agent, supervisor):
    kettle = catalogue.product_for("Kettle K-200", create=True, actor=agent)
    toaster = catalogue.product_for("Toaster", create=True, actor=agent)
    with pytest.raises(refusals.Refusal) as refused:
        catalogue_edits.add_alias(toaster, supervisor, "kettle  k-200")
    assert refused.value.field == "alias" and "Kettle K-200" in str(refused.value.reason)
    with pytest.raises(refusals.Refusal):
        catalogue_edits.add_product(supervisor, name_en="KETTLE K-200", name_zh="")
    catalogue_edits.add_alias(kettle, supervisor, "K200")
    assert catalogue.resolve_product("k200") == kettle


def test_a_renamed_product_is_still_found_by_its_old_name(agent, supervisor):
    kettle = catalogue.product_for("Kettle K-200", create=True, actor=agent)
    catalogue_edits.rename_product(kettle, supervisor, name_en="KX-200 electric kettle", name_zh="KX-200 电热水壶")
    db.session.commit()
    assert catalogue.resolve_product("kettle k-200") == kettle
    assert catalogue.resolve_product("kx-200 电热水壶") == kettle


def test_merging_products_moves_the_cases_and_logs_it_on_each_with_both_names(agent, supervisor):
    kept = take(agent, product="Blender B200")
    moved = take(agent, product="Blender B-200")
    versions = moved.version
    source = db.session.get(Product, moved.product_id)
    target = db.session.get(Product, kept.product_id)
    assert catalogue_edits.merge_products(source, target, supervisor) == [moved.reference]
    db.session.commit()
    assert (moved.product_id, moved.product, moved.version) == (target.id, "Blender B-200", versions)
    assert (source.merged_into_id, source.active) == (target.id, False)
    assert catalogue.resolve_product("Blender B-200") == target  # the old name is an alias now
    event = case_events(moved)[-1]
    assert (event.action, event.actor_id) == ("product_merged", supervisor.id)
    assert event.changes == {"catalogue_product": ["blender-b-200", "blender-b200"]}
    [(_label, before, after, _new)] = describe(event)["changes"]
    assert (before, after) == ("Blender B-200", "Blender B200")
    assert [e.action for e in case_events(kept)][-1] != "product_merged"  # the kept product's cases stay


def test_a_merge_is_refused_into_itself_or_from_a_merged_product(agent, supervisor):
    one = catalogue.product_for("One", create=True, actor=agent)
    two = catalogue.product_for("Two", create=True, actor=agent)
    with pytest.raises(refusals.Refusal):
        catalogue_edits.merge_products(one, one, supervisor)
    catalogue_edits.merge_products(one, two, supervisor)
    with pytest.raises(refusals.Refusal):
        catalogue_edits.merge_products(one, two, supervisor)
    with pytest.raises(refusals.Refusal):
        catalogue_edits.add_alias(one, supervisor, "Uno")


def test_a_customer_keeps_a_retired_tier_but_nobody_is_given_it(agent, supervisor):
    ticket = open_case(agent)
    kept = ticket.customer
    kept.value_tier = "silver"
    other = services.find_or_create_customer("Han Mei", "han.mei@example.com", None)
    db.session.commit()
    catalogue_edits.set_active(
        db.session.scalar(select(ValueTier).where(ValueTier.code == "silver")), supervisor, False
    )
    db.session.commit()
    customers.update_customer(kept, agent, version=kept.version, name="Li Lei (Mr)", value_tier="silver")
    with pytest.raises(refusals.Refusal) as refused:
        customers.update_customer(other, agent, version=other.version, value_tier="silver")
    assert refused.value.field == "value_tier"


def test_the_standard_tier_cannot_be_retired(app, supervisor):
    standard = db.session.scalar(select(ValueTier).where(ValueTier.code == "standard"))
    with pytest.raises(refusals.Refusal):
        catalogue_edits.set_active(standard, supervisor, False)


def test_triage_keeps_a_cases_retired_category_but_gives_it_to_no_other_case(agent, supervisor):
    old = take(agent, category="installation")
    other = take(agent, category="delivery")
    catalogue_edits.set_active(category("installation"), supervisor, False)
    db.session.commit()
    services.triage_case(old, agent, version=old.version, category="installation", priority="high")
    db.session.commit()
    with pytest.raises(refusals.Refusal):
        services.triage_case(other, agent, version=other.version, category="installation")


def test_triage_links_a_corrected_product_to_the_catalogue(agent):
    ticket = take(agent, product="Blendr")
    services.triage_case(ticket, agent, version=ticket.version, product="Blender B200")
    db.session.commit()
    assert ticket.product_id == catalogue.resolve_product("blender b200").id
