"""Precedents for a fair offer (seed 002: 补偿的额度应与损失相当): the closed cases most like this one,
what each was granted and how it ended, and the band such cases received per compensation type, so
that an offer is proportionate to the loss and consistent with what others were given.

Everything is read from bounded, indexed sets of recent closed cases (never the whole history), so
the panel costs the same with a thousand cases or a million.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from ticketing.cases import compensation_bands, on_file
from ticketing.cases.compensation_bands import FEW, Assessment, Band, Placement
from ticketing.cases.models import Ticket
from ticketing.cases.records import AnalysisRecord, CompensationLine, FollowUpRecord, Resolution
from ticketing.cases.vocabulary import (
    CompensationType,
    Outcome,
    ResolutionState,
    Retention,
    RootCause,
    Status,
)
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.labelled import LABELS, Labelled

PEERS = 300  # the latest closed cases of the same root cause and category: what the bands are drawn from
NEIGHBOURS = 100  # the latest of the same root cause and product, and of the same root cause anywhere
TEXT = 120  # characters of the description compared, after the whole subject (the cost follows it)
# The resolution a closed case was settled with: carried out (or accepted), never a refused or rejected one.
GRANTED = (ResolutionState.CARRIED_OUT, ResolutionState.ACCEPTED)
_NOT_WORD = re.compile(r"[\W_]+")


class Basis(Labelled):
    """Which closed cases a band is drawn from."""

    CAUSE_AND_CATEGORY = "cause_and_category"
    CAUSE_AND_PRODUCT = "cause_and_product"
    CAUSE = "cause"


LABELS[Basis] = {
    "cause_and_category": _l("closed cases with the same root cause and category"),
    "cause_and_product": _l("closed cases with the same root cause and product"),
    "cause": _l("closed cases with the same root cause"),
}


@dataclass(frozen=True)
class Granted:
    """One compensation line of the resolution a precedent was settled with."""

    type: CompensationType
    amount: Decimal | None
    currency: str
    description: str | None


@dataclass(frozen=True)
class Precedent:
    reference: str
    subject: str
    root_cause: RootCause
    category: str | None  # a code of the category catalogue
    product: str | None  # as typed on the case
    closed_at: datetime
    lines: tuple[Granted, ...]
    estimated_loss: Decimal | None
    currency: str
    satisfied: bool | None  # None: no follow-up on file
    satisfaction: int | None
    retention: Retention | None
    same_group: bool  # same category or product as the case; else the same root cause only
    similarity: float  # 0..1, how alike the subjects and descriptions read


@dataclass(frozen=True)
class Precedents:
    root_cause: RootCause | None  # None: the cause is not analysed yet, so nothing compares
    basis: Basis | None
    peers: int  # closed cases the bands are drawn from
    cases: list[Precedent]
    bands: list[Band]

    @property
    def few(self) -> int:
        """Below this many cases of a compensation type, no band is given."""
        return FEW

    def band_for(self, type, currency: str) -> Band | None:
        return compensation_bands.band_for(self.bands, type, currency)

    def place(self, type, amount, currency: str) -> Placement | None:
        """Below, within or above the middle half for `type`; None when there is no band to tell."""
        band = self.band_for(type, currency)
        return band.place(Decimal(str(amount))) if band else None

    def assess(self, lines) -> list[Assessment]:
        """A proposal's compensation lines (with an amount), per type, against their bands."""
        return compensation_bands.assess(self.bands, lines)


def precedents_for(ticket: Ticket, limit: int = 5) -> Precedents:
    """The `limit` closed cases most like `ticket`, and the bands of what such cases received.

    Ranked: the same root cause and the same category or product first, then the same root cause
    only; within each, by how alike the subject and description read (character 2- and 3-grams,
    which work for Chinese as for English), then the most recently closed.
    """
    analysis = on_file.latest(AnalysisRecord, ticket)  # the case file's rows on the case page
    if analysis is None:
        return Precedents(None, None, 0, [], [])
    cause = analysis.root_cause
    basis, peers = _peers(ticket, cause)
    pool = {row.id: row for row in peers}
    for row in _neighbours(ticket, cause, basis, short=len(peers) < limit):
        pool.setdefault(row.id, row)
    chosen = _ranked(ticket, pool.values())
    granted = _granted([row.id for row in peers] + [row.id for row, _, _ in chosen])
    cases = [(row, same, score) for row, same, score in chosen if granted.get(row.id)][:limit]
    follow_ups = _follow_ups([row.id for row, _, _ in cases])
    return Precedents(
        root_cause=cause,
        basis=basis,
        peers=sum(1 for row in peers if granted.get(row.id)),
        cases=[
            _precedent(row, cause, same, score, granted[row.id], follow_ups.get(row.id)) for row, same, score in cases
        ],
        bands=compensation_bands.bands([granted[row.id][2] for row in peers if granted.get(row.id)]),
    )


# -- the bounded candidate sets ------------------------------------------------------------------------


def _peers(ticket, cause) -> tuple[Basis, list]:
    """The band's cases: the latest closed ones of the same cause and category (else product, else cause)."""
    if ticket.category is not None:
        return Basis.CAUSE_AND_CATEGORY, _closed_of(ticket, cause, PEERS, Ticket.category == ticket.category)
    if ticket.product_id is not None:
        return Basis.CAUSE_AND_PRODUCT, _closed_of(ticket, cause, PEERS, Ticket.product_id == ticket.product_id)
    return Basis.CAUSE, _closed_any(ticket, cause, PEERS)


def _neighbours(ticket, cause, basis, short: bool) -> list:
    """Beyond the peers: the same cause and product in another category; the same cause anywhere when short."""
    rows = []
    if ticket.product_id is not None and basis == Basis.CAUSE_AND_CATEGORY:
        rows += _closed_of(ticket, cause, NEIGHBOURS, Ticket.product_id == ticket.product_id)
    if short and basis != Basis.CAUSE:
        rows += _closed_any(ticket, cause, NEIGHBOURS)
    return rows


def _closed_of(ticket, cause, limit: int, group) -> list:
    """The latest closed cases of a category or product (`group`) whose latest analysis found `cause`.

    Walks the index on (category|product_id, status, closed_at) newest first and stops at `limit`.
    """
    newer = aliased(AnalysisRecord)
    latest = select(func.max(newer.id)).where(newer.ticket_id == Ticket.id).correlate(Ticket).scalar_subquery()
    stmt = (
        _candidates(ticket, cause)
        .select_from(Ticket)
        .join(AnalysisRecord, AnalysisRecord.id == latest)
        .where(group)
        .order_by(Ticket.closed_at.desc())
    )
    return list(db.session.execute(stmt.limit(limit)))


def _closed_any(ticket, cause, limit: int) -> list:
    """The latest analysed closed cases whose latest analysis found `cause`, in any category.

    Walks the analyses newest first (no index on the tickets' own order would narrow this down:
    PostgreSQL would prefer one on (status, closed_at) even where the category's index is better).
    """
    newer = aliased(AnalysisRecord)
    superseded = exists().where(newer.ticket_id == AnalysisRecord.ticket_id, newer.id > AnalysisRecord.id)
    stmt = (
        _candidates(ticket, cause)
        .select_from(AnalysisRecord)
        .join(Ticket, Ticket.id == AnalysisRecord.ticket_id)
        .where(~superseded)
        .order_by(AnalysisRecord.id.desc())
    )
    return list(db.session.execute(stmt.limit(limit)))


def _candidates(ticket, cause):
    """Closed cases other than `ticket`, analysed as `cause`, granted compensation: what a precedent shows."""
    compensated = exists().where(
        Resolution.ticket_id == Ticket.id,
        Resolution.state.in_(GRANTED),
        CompensationLine.resolution_id == Resolution.id,
    )
    return select(
        Ticket.id,
        Ticket.reference,
        Ticket.subject,
        func.substr(Ticket.description, 1, TEXT).label("text"),
        Ticket.category,
        Ticket.product,
        Ticket.product_id,
        Ticket.closed_at,
    ).where(Ticket.status == Status.CLOSED, Ticket.id != ticket.id, AnalysisRecord.root_cause == cause, compensated)


# -- ranking by likeness --------------------------------------------------------------------------------


def _ranked(ticket, rows) -> list[tuple]:
    """(row, same category or product, similarity), the most alike first within each tier."""
    mine = _shingles(ticket.subject, ticket.description[:TEXT])
    scored = []
    for row in rows:
        same = (ticket.category is not None and row.category == ticket.category) or (
            ticket.product_id is not None and row.product_id == ticket.product_id
        )
        scored.append((row, same, _dice(mine, _shingles(row.subject, row.text))))
    scored.sort(key=lambda item: (not item[1], -item[2], -item[0].closed_at.timestamp(), -item[0].id))
    return scored


def _shingles(subject: str, text: str | None) -> set[str]:
    """Character 2- and 3-grams of the words: bigrams carry Chinese (two-character words), trigrams English."""
    words = _NOT_WORD.sub(" ", f"{subject} {text or ''}".lower()).strip()
    return set(map("".join, zip(words, words[1:]))) | set(map("".join, zip(words, words[1:], words[2:])))


def _dice(a: set, b: set) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


# -- what they were granted, and how they ended ----------------------------------------------------------


def _granted(ticket_ids) -> dict[int, tuple]:
    """ticket id -> (estimated loss, currency, lines) of the latest resolution it was granted."""
    ids = list(set(ticket_ids))
    resolutions = db.session.execute(
        select(Resolution.id, Resolution.ticket_id, Resolution.estimated_loss, Resolution.currency)
        .where(Resolution.ticket_id.in_(ids), Resolution.state.in_(GRANTED))
        .order_by(Resolution.id)
    )
    latest = {row.ticket_id: row for row in resolutions}  # the later one wins
    lines = defaultdict(list)
    line = CompensationLine
    for row in db.session.execute(
        select(line.resolution_id, line.type, line.amount, line.currency, line.description)
        .where(line.resolution_id.in_([row.id for row in latest.values()]))
        .order_by(line.id)
    ):
        lines[row.resolution_id].append(Granted(row.type, row.amount, row.currency, row.description))
    return {
        ticket_id: (row.estimated_loss, row.currency, tuple(lines[row.id]))
        for ticket_id, row in latest.items()
        if lines[row.id]
    }


def _follow_ups(ticket_ids) -> dict[int, tuple]:
    """ticket id -> its latest follow-up's (outcome, satisfaction, retention)."""
    rows = db.session.execute(
        select(FollowUpRecord.ticket_id, FollowUpRecord.outcome, FollowUpRecord.satisfaction, FollowUpRecord.retention)
        .where(FollowUpRecord.ticket_id.in_(ticket_ids))
        .order_by(FollowUpRecord.id)
    )
    return {row.ticket_id: (row.outcome, row.satisfaction, row.retention) for row in rows}


def _precedent(row, cause, same, score, granted, follow_up) -> Precedent:
    loss, currency, lines = granted
    outcome, satisfaction, retention = follow_up or (None, None, None)
    return Precedent(
        reference=row.reference,
        subject=row.subject,
        root_cause=cause,
        category=row.category,
        product=row.product,
        closed_at=row.closed_at,
        lines=lines,
        estimated_loss=loss,
        currency=currency,
        satisfied=None if outcome is None else outcome == Outcome.SATISFIED,
        satisfaction=satisfaction,
        retention=retention,
        same_group=same,
        similarity=round(score, 3),
    )
