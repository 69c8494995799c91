"""The products' Pareto chart stays readable: a long tail is one bar that says how many products it
holds, and a cumulative share's label never sits on the count above a short bar."""

import re

from flask_babel import ngettext

from ticketing.insight import causes, charts
from ticketing.insight.results import TEXT, Column


def _rest(many):
    return ngettext("%(num)d other product", "%(num)d other products", many)


def test_the_long_tail_is_one_bar_naming_how_many_products_it_holds(app):
    counted = [(f"Product {n:02d}", 100 - n) for n in range(12)]
    with app.test_request_context():
        result = causes._pareto(counted, Column("Product", TEXT), "Vital", rest_label=_rest)
    assert len(result.rows) == causes.TOP_PRODUCTS
    assert result.rows[-1][0] == "3 other products" and result.rows[-1][1] == 91 + 90 + 89
    assert result.rows[-1][3] == 100  # the running share ends at all of them (per cent)


def _labels(svg: str, cls: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(rf'<text x="([\d.]+)" y="([\d.-]+)"[^>]*class="{cls}"', svg)]


DISTRIBUTIONS = [
    [400] + [3] * 8,  # one tall bar, then short ones
    [60, 30, 5, 3, 2],
    [45, 44, 6, 5],
    [20, 18, 17, 15, 12, 10, 8],
    [9, 1],
    [50, 49, 48, 47, 46, 45, 44, 43, 42, 41],
]


def test_a_cumulative_label_never_covers_a_bars_count(app):
    for counted in DISTRIBUTIONS:
        with app.test_request_context():
            result = causes._pareto(
                [(f"P{n}", count) for n, count in enumerate(counted)], Column("Product", TEXT), "Vital"
            )
            svg = str(charts.render(result.chart, "pareto", "Products"))
        counts = _labels(svg, "value") + _labels(svg, "value inside")
        shares = _labels(svg, "cumulative-value")
        assert len(shares) == len(counted) and len(counts) == len(counted)
        for x, y in shares:
            near = [cy for cx, cy in counts if abs(cx - x) < 1]
            assert near and all(abs(y - cy) >= 13 for cy in near), (counted, x, y, near)
