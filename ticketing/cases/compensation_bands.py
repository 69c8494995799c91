"""What similar cases received, per compensation type and currency: the median and the middle half
(25th to 75th percentile) of what each case was granted, and where an amount falls against them."""

import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from ticketing.cases.vocabulary import CompensationType
from ticketing.i18n import lazy_gettext as _l
from ticketing.labelled import LABELS, Labelled

FEW = 3  # fewer cases than this with a compensation type make no band: its quartiles would mislead
CENT = Decimal("0.01")


class Placement(Labelled):
    """Where an amount falls against the middle half of what similar cases received."""

    BELOW = "below"
    WITHIN = "within"
    ABOVE = "above"


LABELS[Placement] = {
    "below": _l("Below what similar cases received"),
    "within": _l("Within what similar cases received"),
    "above": _l("Above what similar cases received"),
}


@dataclass(frozen=True)
class Band:
    """What the similar cases received of one compensation type, in one currency (per case)."""

    type: CompensationType
    currency: str
    count: int
    median: Decimal | None  # None when there are too few cases for a band
    low: Decimal | None  # 25th percentile
    high: Decimal | None  # 75th percentile

    @property
    def enough(self) -> bool:
        return self.median is not None

    def place(self, amount: Decimal) -> Placement | None:
        """Below, within (bounds included) or above the middle half; None with too few cases."""
        if not self.enough:
            return None
        if amount < self.low:
            return Placement.BELOW
        return Placement.ABOVE if amount > self.high else Placement.WITHIN


@dataclass(frozen=True)
class Assessment:
    """One compensation type of a proposal (its lines summed) against the band of that type."""

    type: CompensationType
    currency: str
    amount: Decimal
    band: Band | None
    placement: Placement | None  # None: no band, or too few cases to tell


def per_type(lines) -> dict[tuple, Decimal]:
    """(type, currency) -> the amounts of those lines summed; lines without an amount are left out."""
    totals: dict[tuple, Decimal] = {}
    for line in lines:
        if line.amount is not None:
            key = (CompensationType(line.type), line.currency.upper())
            totals[key] = totals.get(key, Decimal(0)) + Decimal(line.amount)
    return totals


def bands(settled) -> list[Band]:
    """The band of each compensation type and currency, from the lines each settled case was granted."""
    received = defaultdict(list)
    for lines in settled:
        for key, amount in per_type(lines).items():
            received[key].append(amount)
    order = list(CompensationType)
    keys = sorted(received, key=lambda key: (order.index(key[0]), key[1]))
    return [_band(kind, currency, received[kind, currency]) for kind, currency in keys]


def band_for(found: list[Band], type, currency: str) -> Band | None:
    return next((band for band in found if band.type == type and band.currency == currency.upper()), None)


def assess(found: list[Band], lines) -> list[Assessment]:
    """A proposal's compensation lines (with an amount), per type, against their bands."""
    assessed = []
    for (kind, currency), amount in per_type(lines).items():
        band = band_for(found, kind, currency)
        assessed.append(Assessment(kind, currency, amount, band, band.place(amount) if band else None))
    return assessed


def _band(kind, currency, amounts) -> Band:
    if len(amounts) < FEW:
        return Band(kind, currency, len(amounts), None, None, None)
    low, median, high = statistics.quantiles(amounts, n=4, method="inclusive")
    return Band(kind, currency, len(amounts), _cents(median), _cents(low), _cents(high))


def _cents(value) -> Decimal:
    return Decimal(value).quantize(CENT)
