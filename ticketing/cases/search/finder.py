"""Matching and ranking: what the search box and the API's `q` answer.

Cases come in this order: the case whose reference was typed; the cases of the customer whose exact
phone or e-mail was typed (open ones first); then every other match, open cases before the rest,
newest first within each. Paging follows that order with an opaque cursor, so a page never
repeats or skips a case while the index is being written.

The newest matches are read straight off the index in id order (FTS5 walks its lists backwards;
on PostgreSQL the id range is widened step by step), so a word found in half the cases costs no more
than a rare one: the work is bounded by the page, not by the number of matches."""

import re
from dataclasses import dataclass

from sqlalchemy import and_, column, false, func, or_, select, table, text

from ticketing.cases.models import Customer, Ticket
from ticketing.cases.search.documents import CaseDocument, CustomerDocument
from ticketing.cases.search.query import Query
from ticketing.cases.vocabulary import Status
from ticketing.extensions import db

PINNED = 20  # at most this many cases of an exactly matching caller come first
FEW = 400  # up to this many matches are ranked in one pass
DIGITS_LOOKED_UP = 7
FIRST_WINDOW = 4096  # PostgreSQL: ids scanned by the first range, widened eightfold each time

_PHASES = ("o", "r")  # open cases, then the rest
_CURSOR = re.compile(r"^([or])\.(\d{0,18})$")


@dataclass
class Found:
    items: list
    next_cursor: str | None


@dataclass(frozen=True)
class _Index:
    """One document table: its key, its text columns (trigram and two-character), its FTS5 twin."""

    fts: str
    key: str
    long: tuple[str, ...]
    short: tuple[str, ...]


def _case_index(include_notes: bool) -> _Index:
    if include_notes:
        return _Index("case_search_fts", "ticket_id", ("public_text", "notes_text"), ("short_public", "short_notes"))
    return _Index("case_search_fts", "ticket_id", ("public_text",), ("short_public",))


_CUSTOMERS = _Index("customer_search_fts", "customer_id", ("contact_text",), ("short_contact",))


def search_cases(query: Query, *, include_notes: bool, conditions=(), limit: int = 25, cursor: str | None = None):
    """One page of cases matching `query` and `conditions` (expressions on Ticket): a Found whose
    items are Tickets. Staff search includes internal notes; a search for a customer must not."""
    position = _decode(cursor)
    pinned = _pinned_cases(query, conditions, limit)
    ids = list(pinned) if position is None else []
    next_cursor = None
    if query.terms:
        index = _case_index(include_notes)
        conditions = [*conditions, Ticket.id.not_in(pinned)]
        ranked = _ranked_if_few(index, query, conditions)
        found, next_cursor = (
            _page_of(ranked, position, limit - len(ids))
            if ranked is not None
            else _phased(index, query, conditions, position, limit - len(ids))
        )
        ids += found
    return Found(_load(Ticket, ids), next_cursor)


def _ranked_if_few(index, query, conditions) -> list[tuple[str, int]] | None:
    """Every match as (phase, id) in ranking order, when there are at most FEW of them (most
    phones, names and rare words): one pass over the index instead of one per phase."""
    found = _matches(index, query, Ticket, conditions, None, FEW + 1)
    if len(found) > FEW:
        return None
    open_ids = set(db.session.scalars(select(Ticket.id).where(Ticket.id.in_(found), Ticket.status == Status.OPEN)))
    return [("o", i) for i in found if i in open_ids] + [("r", i) for i in found if i not in open_ids]


def _page_of(ranked, position, need: int):
    if position is not None:
        phase, below = position
        start = _PHASES.index(phase)
        ranked = [
            (p, i) for p, i in ranked if _PHASES.index(p) > start or (p == phase and (below is None or i < below))
        ]
    if need <= 0:
        return [], f"{ranked[0][0]}." if ranked else None
    page = ranked[:need]
    more = len(ranked) > need
    return [i for _p, i in page], f"{page[-1][0]}.{page[-1][1]}" if more else None


def _phased(index, query, conditions, position, need: int):
    """Open matches newest first, then the rest, each read off the index in id order as far as the
    page needs (for words found in very many cases)."""
    phase, below = position or ("o", None)
    ids = []
    for current in _PHASES[_PHASES.index(phase) :]:
        if need - len(ids) <= 0:
            return ids, f"{current}."
        status = Ticket.status == Status.OPEN if current == "o" else Ticket.status != Status.OPEN
        # Only words found in many cases come here: the probe would find FEW + 1 and be wasted.
        found = _matches(index, query, Ticket, [*conditions, status], below, need - len(ids) + 1, probe=False)
        if len(found) > need - len(ids):
            found = found[: need - len(ids)]
            return ids + found, f"{current}.{found[-1]}"
        ids += found
        below = None
    return ids, None


def search_customers(query: Query, *, limit: int = 25, cursor: str | None = None) -> Found:
    """One page of customers whose name, e-mail, phone or external id matches: the exact phone or
    e-mail first, then the newest."""
    position = _decode(cursor)
    conditions = [Customer.merged_into_id.is_(None)]  # a merged record's cases live with the survivor
    exact = _exact_customer(query)
    pinned = (
        list(
            db.session.scalars(select(Customer.id).where(exact, *conditions).order_by(Customer.id.desc()).limit(limit))
        )
        if exact is not None
        else []
    )
    ids = list(pinned) if position is None else []
    below = position[1] if position else None
    next_cursor = None
    need = limit - len(ids)
    if query.terms and need > 0:
        found = _matches(_CUSTOMERS, query, Customer, [*conditions, Customer.id.not_in(pinned)], below, need + 1)
        if len(found) > need:
            found = found[:need]
            next_cursor = f"o.{found[-1]}"
        ids += found
    return Found(_load(Customer, ids), next_cursor)


def _exact_customer(query: Query):
    conditions = []
    if query.phone:
        conditions.append(Customer.phone_digits == query.phone)
    if query.email:
        conditions.append(func.lower(Customer.email) == query.email)
    return or_(*conditions) if conditions else None


def _pinned_cases(query: Query, conditions, limit: int) -> list[int]:
    ids = []
    if query.reference:
        ids += db.session.scalars(select(Ticket.id).where(Ticket.reference == query.reference, *conditions))
    exact = _exact_customer(query)
    if exact is not None:
        ids += db.session.scalars(
            select(Ticket.id)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(exact, *conditions)
            .order_by((Ticket.status == Status.OPEN).desc(), Ticket.id.desc())
            .limit(PINNED)
        )
    return list(dict.fromkeys(ids))[:limit]


def _matches(
    index: _Index, query: Query, model, conditions, below: int | None, limit: int, probe: bool = True
) -> list[int]:
    """Ids of `model` rows whose document matches every term, newest first, below `below`."""
    if db.session.get_bind().dialect.name == "sqlite":
        return _sqlite_matches(index, query, model, conditions, below, limit)
    return _postgres_matches(index, query, model, conditions, below, limit, probe)


def _sqlite_matches(index, query, model, conditions, below, limit) -> list[int]:
    fts = table(index.fts, column("rowid"))
    statement = (
        select(model.id)
        .select_from(fts)
        .join(model, model.id == fts.c.rowid)
        .where(text(f"{index.fts} MATCH :expression").bindparams(expression=_fts_expression(index, query)))
        .where(*conditions)
    )
    if any(_looked_up(a) != a for term in query.terms for a in term.alternatives):
        document = _document(index)  # the index found the tail of a long number; the row confirms the rest
        statement = statement.join(document, document.c[index.key] == fts.c.rowid).where(
            _like_conditions(document, index, query)
        )
    if below is not None:
        statement = statement.where(fts.c.rowid < below)
    return list(db.session.scalars(statement.order_by(fts.c.rowid.desc()).limit(limit)))


def _looked_up(alternative: str) -> str:
    """What the index is asked for. Digits repeat across phones, references and order numbers, so
    each run of three is in a great many documents and a long number means many long lists to
    intersect: its last seven digits (the least shared part of a phone) find the few candidates."""
    return alternative[-DIGITS_LOOKED_UP:] if alternative.isdigit() else alternative


def _document(index: _Index):
    return (CaseDocument if index.key == "ticket_id" else CustomerDocument).__table__


def _fts_expression(index: _Index, query: Query) -> str:
    """An FTS5 query: every term, each as any of its alternatives, each a quoted phrase (so
    nothing typed is read as FTS5 syntax)."""

    def phrase(alternative: str) -> str:
        alternative = _looked_up(alternative)
        columns, padded = (index.long, alternative) if len(alternative) >= 3 else (index.short, f" {alternative} ")
        quoted = padded.replace('"', '""')
        return f'{{{" ".join(columns)}}} : "{quoted}"'

    return " AND ".join(f"({' OR '.join(phrase(a) for a in term.alternatives)})" for term in query.terms)


def _postgres_matches(index, query, model, conditions, below, limit, probe) -> list[int]:
    """First (with `probe`) any FEW + 1 matches, in no order (the trigram index, stopping there):
    when that is all of them, they are sorted here. Otherwise the word is common, and the newest matches are found
    by scanning back from the newest id in widening ranges, which stops as soon as the page is full
    (an ORDER BY over the whole index would read every match)."""
    document = _document(index)
    key = document.c[index.key]
    statement = (
        select(model.id)
        .select_from(document)
        .join(model, model.id == key)
        .where(_like_conditions(document, index, query), *conditions)
    )
    if below is not None:
        statement = statement.where(key < below)
    if probe:
        some = list(db.session.scalars(statement.limit(FEW + 1)))
        if len(some) <= FEW:
            return sorted(some, reverse=True)[:limit]
    top = below if below is not None else (db.session.scalar(select(func.max(key))) or 0) + 1
    found: list[int] = []
    window = FIRST_WINDOW
    while len(found) < limit and top > 0:
        floor = max(top - window, 0)
        found += db.session.scalars(
            statement.where(key < top, key >= floor).order_by(key.desc()).limit(limit - len(found))
        )
        top, window = floor, window * 8
    return found


def _like_conditions(document, index: _Index, query: Query):
    def contains(alternative: str):
        escaped = alternative.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        if len(alternative) >= 3:
            return or_(*(document.c[name].like(f"%{escaped}%", escape="\\") for name in index.long))
        return or_(*(document.c[name].like(f"% {escaped} %", escape="\\") for name in index.short))

    terms = [or_(*(contains(a) for a in term.alternatives)) for term in query.terms if term.alternatives]
    return and_(*terms) if terms else false()


def _load(model, ids: list[int]) -> list:
    if not ids:
        return []
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]


def _decode(cursor: str | None):
    """(phase, below) from a cursor; None for the first page (or a cursor that is not ours)."""
    match = _CURSOR.match(cursor or "")
    if not match:
        return None
    return match[1], int(match[2]) if match[2] else None
