"""The catalogues page: categories, value tiers and products, named in English and Chinese, added,
renamed, retired and brought back by supervisors and admins; products also given other names
(aliases) and merged. Every change is kept (catalogue_changes, and each moved case's record log)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user

from ticketing import refusals
from ticketing.admin import catalogue_page
from ticketing.admin.catalogue_forms import (
    ActiveForm,
    AliasForm,
    EditEntryForm,
    MergeChoiceForm,
    MergeForm,
    NewEntryForm,
    ProductForm,
)
from ticketing.auth.permissions import SUPERVISORS, roles_required
from ticketing.cases import catalogue, catalogue_edits
from ticketing.cases.catalogue import Category, Product, ValueTier
from ticketing.extensions import db
from ticketing.forms_common import options
from ticketing.i18n import gettext as _

bp = Blueprint("catalogues", __name__, url_prefix="/admin/catalogues")
MODELS = {"categories": Category, "tiers": ValueTier, "products": Product}
NAMED = "<any(categories, tiers):kind>"


def _index(status: int = 200, **forms):
    forms = {
        "new_category": NewEntryForm(prefix="category"),
        "new_tier": NewEntryForm(prefix="tier"),
        "new_product": ProductForm(prefix="product"),
        **forms,
    }
    del forms["new_category"].high_value
    return render_template("admin/catalogues.html", **catalogue_page.page_data(), **forms), status


def _entry(kind: str, item_id: int):
    return db.session.get(MODELS[kind], item_id) or abort(404)


@bp.get("/")
@roles_required(*SUPERVISORS)
def index():
    return _index()


@bp.post(f"/{NAMED}/new")
@roles_required(*SUPERVISORS)
def add_entry(kind):
    form = NewEntryForm(prefix="category" if kind == "categories" else "tier")
    if kind == "categories":
        del form.high_value
    forms = {"new_category" if kind == "categories" else "new_tier": form}
    if not form.validate_on_submit():
        return _index(422, **forms)
    refusals.reshow(lambda error: _index(**forms)[0], form=form)
    data = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    row = catalogue_edits.add_entry(MODELS[kind], current_user, **data)
    db.session.commit()
    flash(_("%(name)s is added.", name=row.name), "success")
    return redirect(url_for("catalogues.index", _anchor=kind))


@bp.route(f"/{NAMED}/<int:item_id>", methods=["GET", "POST"])
@roles_required(*SUPERVISORS)
def edit_entry(kind, item_id):
    row = _entry(kind, item_id)
    form = EditEntryForm(obj=row)
    if kind == "categories":
        del form.high_value
    if not form.validate_on_submit():
        return _entry_page(form, row, kind), 422 if form.is_submitted() else 200
    refusals.reshow(lambda error: _entry_page(form, row, kind), form=form)
    data = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    catalogue_edits.edit_entry(row, current_user, **data)
    db.session.commit()
    flash(_("%(name)s is saved.", name=row.name), "success")
    return redirect(url_for("catalogues.index", _anchor=kind))


def _entry_page(form, row, kind):
    return render_template("admin/catalogue_entry.html", form=form, row=row, kind=kind)


@bp.post("/<any(categories, tiers, products):kind>/<int:item_id>/active")
@roles_required(*SUPERVISORS)
def set_active(kind, item_id):
    """Retire an entry (offered no more; what has it keeps it) or bring it back."""
    row = _entry(kind, item_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    catalogue_edits.set_active(row, current_user, form.active.data == "1")
    db.session.commit()
    flash(_("%(name)s is back in use.", name=row.name) if row.active else _("%(name)s is retired.", name=row.name))
    back = url_for("catalogues.product", product_id=row.id) if kind == "products" else None
    return redirect(back or url_for("catalogues.index", _anchor=kind))


@bp.post("/products/new")
@roles_required(*SUPERVISORS)
def add_product():
    form = ProductForm(prefix="product")
    if not form.validate_on_submit():
        return _index(422, new_product=form)
    refusals.reshow(lambda error: _index(new_product=form)[0], form=form)
    product = catalogue_edits.add_product(current_user, name_en=form.name_en.data, name_zh=form.name_zh.data)
    db.session.commit()
    flash(_("%(name)s is added.", name=product.name), "success")
    return redirect(url_for("catalogues.product", product_id=product.id))


def _product_page(product, status=200, **forms):
    forms = {"form": ProductForm(obj=product), "alias_form": AliasForm(), **forms}
    choice = MergeChoiceForm(formdata=None)
    choice.into.choices = options(pairs=lambda: catalogue_page.merge_targets(product))()
    return render_template(
        "admin/catalogue_product.html",
        product=product,
        aliases=catalogue_page.aliases(product).get(product.id, []),
        cases=catalogue_page.case_count(product),
        merged_into=db.session.get(Product, product.merged_into_id) if product.merged_into_id else None,
        merge_choice=choice,
        **forms,
    ), status


@bp.route("/products/<int:product_id>", methods=["GET", "POST"])
@roles_required(*SUPERVISORS)
def product(product_id):
    """A product's names (the old ones stay as aliases), its other names and the way to merge it."""
    found = _entry("products", product_id)
    if request.method == "GET":
        return _product_page(found)
    form = ProductForm()
    if not form.validate_on_submit():
        return _product_page(found, 422, form=form)
    refusals.reshow(lambda error: _product_page(found, form=form)[0], form=form)
    catalogue_edits.rename_product(found, current_user, name_en=form.name_en.data, name_zh=form.name_zh.data)
    db.session.commit()
    flash(_("%(name)s is saved.", name=found.name), "success")
    return redirect(url_for("catalogues.product", product_id=found.id))


@bp.post("/products/<int:product_id>/aliases")
@roles_required(*SUPERVISORS)
def add_alias(product_id):
    found = _entry("products", product_id)
    form = AliasForm()
    if not form.validate_on_submit():
        return _product_page(found, 422, alias_form=form)
    refusals.reshow(lambda error: _product_page(found, alias_form=form)[0], form=form)
    catalogue_edits.add_alias(found, current_user, form.alias.data)
    db.session.commit()
    flash(_("“%(alias)s” now means %(name)s.", alias=form.alias.data.strip(), name=found.name), "success")
    return redirect(url_for("catalogues.product", product_id=found.id))


@bp.route("/products/<int:product_id>/merge", methods=["GET", "POST"])
@roles_required(*SUPERVISORS)
def merge(product_id):
    """GET: the two products side by side, and what merging does; POST: merge them."""
    source = _entry("products", product_id)
    code = request.form.get("into") if request.method == "POST" else request.args.get("into")
    target = catalogue.product_by_code(code if isinstance(code, str) and len(code) <= 64 else None)
    if target is None:
        abort(404)
    form = MergeForm(data={"into": target.code})
    if not form.validate_on_submit():
        return _merge_page(source, target, form), 422 if form.is_submitted() else 200
    refusals.reshow(lambda error: _merge_page(source, target, form))
    moved = catalogue_edits.merge_products(source, target, current_user)
    db.session.commit()
    flash(
        ngettext(
            "%(source)s is merged into %(target)s: %(num)d case moved.",
            "%(source)s is merged into %(target)s: %(num)d cases moved.",
            len(moved),
            source=source.name,
            target=target.name,
        ),
        "success",
    )
    return redirect(url_for("catalogues.product", product_id=target.id))


def _merge_page(source, target, form):
    return render_template(
        "admin/catalogue_merge.html",
        source=source,
        target=target,
        form=form,
        cases=catalogue_page.case_count(source),
        refused=catalogue_edits.merge_refusal(source, target),
    )
