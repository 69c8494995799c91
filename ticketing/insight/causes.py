"""What the complaints are about, as Pareto charts: root causes and products, largest first, with
the running share, so the vital few stand out."""

from flask_babel import ngettext
from sqlalchemy import func, select

from ticketing.cases.catalogue import Product, local_name
from ticketing.cases.facts import CaseFacts
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.insight.charts import PARETO, Bar, Chart
from ticketing.insight.filters import Filters
from ticketing.insight.queries import cohort, ratio, survivor
from ticketing.insight.results import COUNT, PERCENT, TEXT, Column, Result, Stat, display

TOP_PRODUCTS = 10


def _pareto(counted: list[tuple[str, int]], first: Column, vital_label, rest_label=None) -> Result:
    """Rows largest first, each with its share and the running (cumulative) share; beyond
    TOP_PRODUCTS the rest are one row at the end, named by `rest_label(how many)`. The vital few: how many values,
    largest first, it takes to reach four in five cases."""
    counted = sorted(counted, key=lambda item: (-item[1], item[0]))
    total = sum(count for _name, count in counted)
    columns = [
        first,
        Column(_l("Number of cases"), COUNT),
        Column(_l("Share"), PERCENT),
        Column(_l("Cumulative share"), PERCENT),
    ]
    if not total:
        return Result(columns, [])
    running = [sum(count for _name, count in counted[:index]) for index in range(1, len(counted) + 1)]
    vital = next(index for index, reached in enumerate(running, 1) if 5 * reached >= 4 * total)
    if rest_label is not None and len(counted) > TOP_PRODUCTS:
        rest = counted[TOP_PRODUCTS - 1 :]
        counted = counted[: TOP_PRODUCTS - 1] + [(rest_label(len(rest)), sum(count for _name, count in rest))]
    rows, so_far = [], 0
    for name, count in counted:
        so_far += count
        rows.append([name, count, ratio(count, total), ratio(so_far, total)])
    chart = Chart(PARETO, [Bar(name, (count,), (display(count, COUNT),)) for name, count, _share, _cum in rows])
    return Result(
        columns,
        rows,
        chart,
        headline={"vital_few": Stat(vital_label, vital, COUNT), "total": Stat(_l("Cases counted"), total, COUNT)},
    )


def root_causes(filters: Filters) -> Result:
    """Root causes of the analysed cases of the cohort: each case counted once, by its latest
    analysis (AnalysisRecord.root_cause), largest first with the cumulative share."""
    query = (
        select(CaseFacts.root_cause, func.count())
        .where(*cohort(filters), CaseFacts.root_cause.is_not(None))
        .group_by(CaseFacts.root_cause)
    )
    return _pareto(
        [(cause.label, count) for cause, count in db.session.execute(query)],
        Column(_l("Root cause"), TEXT),
        _l("Causes behind four in five cases"),
    )


def products(filters: Filters) -> Result:
    """Products the cases of the cohort are about, largest first with the cumulative share; after the
    first nine, the rest in one row. A case counts for the catalogue's product it names
    (Ticket.product_id), so every alias and every product merged into it count as one, named in the
    reader's language; a text that names no product yet (a customer's own words) counts as typed.
    Cases without a product are not counted here."""
    per_product = (
        select(CaseFacts.product_id, func.count().label("cases"))
        .where(*cohort(filters), CaseFacts.product_id.is_not(None))
        .group_by(CaseFacts.product_id)
        .subquery()
    )
    named = survivor(per_product.c.product_id)
    linked = (
        select(Product.name_en, Product.name_zh, func.sum(per_product.c.cases))
        .select_from(per_product)
        .join(Product, Product.id == named)
        .group_by(Product.id, Product.name_en, Product.name_zh)
    )
    unlinked = (
        select(CaseFacts.product, func.count())
        .where(*cohort(filters), CaseFacts.product_id.is_(None), CaseFacts.product.is_not(None))
        .group_by(CaseFacts.product)
    )
    counted = [(local_name(en, zh), int(count)) for en, zh, count in db.session.execute(linked)]
    return _pareto(
        counted + [(name, count) for name, count in db.session.execute(unlinked)],
        Column(_l("Product"), TEXT),
        _l("Products behind four in five cases"),
        rest_label=lambda many: ngettext("%(num)d other product", "%(num)d other products", many),
    )
