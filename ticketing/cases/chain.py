"""Tamper evidence for the record log: a sealed hash chain per case, the records each event wrote,
and a database that refuses to change or delete either.

Each event's seal (a keyed HMAC, see ticketing/sealing.py) covers its own content, a snapshot of
every step record, compensation line, survey answer, message, note and file it wrote or changed, and
the previous event's seal. So changing any stored field of any of those records behind the
application's back no longer matches the latest snapshot of it; editing an event breaks its seal and
every link after it; and without the key no one can recompute the seals. `verify()` names the first
problem: the case, the event, and for a record its table, row and field.

The chain is per case (not global) so writers on different cases never wait for each other; appends
to one case are serialised by a transaction-level advisory lock on PostgreSQL (on SQLite, by taking
its one write lock before reading the chain's end), and the unique (ticket_id, seq) constraint makes
a fork impossible. Deleting a case's last events, or all of them, leaves a chain that is intact in
itself: the anchors (anchors.py) hold every case's head outside the database and catch that.
"""

import gc
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from functools import partial
from json.encoder import c_make_encoder, encode_basestring

import orjson
from sqlalchemy import DDL, JSON, Boolean, Integer, Numeric, String, Text, cast, event, func, select, text, type_coerce
from sqlalchemy import Enum as SQLEnum
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from ticketing import sealing
from ticketing.cases.models import Ticket
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l
from ticketing.types import UTCDateTime

_LOCK_NAMESPACE = 7_311  # advisory locks of the record log: (namespace, ticket id)


# --- the records each event seals ----------------------------------------------------------------


@dataclass(frozen=True)
class Sealed:
    """A table whose rows the record log seals: its model, the columns a later action may change
    (each such change is sealed by that action's event), and how a row names its case."""

    model: type
    mutable: frozenset = field(default_factory=frozenset)
    # (the parent model, the column of this table naming it) when the row reaches its case through a parent
    parent: tuple | None = None

    @property
    def table(self) -> str:
        return self.model.__tablename__

    def ticket_of(self, row) -> int | None:
        if self.parent is None:
            return row.ticket_id
        parent_model, column = self.parent
        parent = db.session.get(parent_model, getattr(row, column))
        return parent.ticket_id if parent is not None else None

    def rows_of(self, ticket_ids) -> Iterator[tuple[int, object]]:
        """(ticket id, row) of every row of these cases."""
        if self.parent is None:
            query = select(self.model.ticket_id, self.model).where(self.model.ticket_id.in_(ticket_ids))
        else:
            parent_model, column = self.parent
            query = (
                select(parent_model.ticket_id, self.model)
                .join(parent_model, getattr(self.model, column) == parent_model.id)
                .where(parent_model.ticket_id.in_(ticket_ids))
            )
        yield from db.session.execute(query)


SEALED: dict[str, Sealed] = {}


def seal_records(model, *, mutable=(), parent=None) -> None:
    """Have the record log seal `model`'s rows, and the database refuse to delete them or to change
    any column but the `mutable` ones (installed with the table; the migrations run the same SQL)."""
    sealed = Sealed(model, frozenset(mutable), parent)
    SEALED[sealed.table] = sealed
    fixed = [column.name for column in model.__table__.columns if column.name not in sealed.mutable]
    for statement in record_triggers(sealed.table, fixed, "sqlite"):
        event.listen(model.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in record_triggers(sealed.table, fixed, "postgresql"):
        event.listen(model.__table__, "after_create", DDL(statement).execute_if(dialect="postgresql"))


def pending_records(session) -> list:
    """The sealed rows this transaction added or changed and no event has sealed yet: the ones still
    to be flushed, and the ones a service flushed early (to have an id, or to catch a duplicate)."""
    rows = dict(session.info.get(_UNSEALED, {}))
    rows.update(_touched(session))
    return list(rows.values())


def _touched(session) -> dict:
    touched = {id(row): row for row in session.new if type(row).__table__.name in SEALED}
    for row in session.dirty:
        if type(row).__table__.name in SEALED and session.is_modified(row):
            touched[id(row)] = row
    return touched


_UNSEALED = "unsealed records"


@event.listens_for(Session, "before_flush")
def _remember_flushed(session, _context, _instances) -> None:
    session.info.setdefault(_UNSEALED, {}).update(_touched(session))


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    session.info.pop(_UNSEALED, None)


def snapshots(rows, ticket_id: int) -> dict | None:
    """{"table:id": {column: value}} of the (flushed) rows that belong to case `ticket_id`."""
    taken = {}
    unsealed = db.session.info.get(_UNSEALED, {})
    for row in rows:
        sealed = SEALED[type(row).__table__.name]
        if sealed.ticket_of(row) == ticket_id:
            taken[f"{sealed.table}:{row.id}"] = snapshot(row)
            unsealed.pop(id(row), None)
    return taken or None


def snapshot(row) -> dict:
    """Every column of `row` but its id, in the form the database gives back (so a row as written and
    the same row read again compare equal): money at its column's scale, moments in UTC."""
    values = {}
    for column in row.__table__.columns:
        if column.name != "id":
            values[column.name] = _plain(getattr(row, column.key), column.type)
    return values


def _plain(value, column_type):
    if value is None:
        return None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    numeric = isinstance(column_type, Numeric) and column_type.scale is not None
    if numeric and isinstance(value, (Decimal, float, int)) and not isinstance(value, bool):
        return format(Decimal(str(value)).quantize(Decimal(1).scaleb(-column_type.scale)), "f")
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- sealing and linking events ---------------------------------------------------------------------


def content(row) -> list:
    """What an event's seal covers: its place, its content, the records it wrote and its predecessor."""
    return [
        row.prev_hash,
        row.ticket_id,
        row.seq,
        row.actor_id,
        row.actor_name,
        row.action,
        row.changes,
        row.created_at.isoformat(),
        row.records,
    ]


def link_all(new_events: list) -> None:
    """Give each new event its place in its case's chain and seal it, in their order (a case's later
    events follow its earlier ones); call before adding them to the session. The cases are locked
    and their last events read in one go — except the cases whose head this transaction knows: those
    it inserted (no event yet) and those it has sealed an event of (it holds their lock since)."""
    if not new_events:
        return
    Event = type(new_events[0])
    heads = db.session.info.setdefault(HEADS, {})
    ticket_ids = sorted({event.ticket_id for event in new_events} - heads.keys())
    if ticket_ids:
        heads.update(_read_heads(Event, ticket_ids))
    for new_event in new_events:
        seq, prev_hash = heads.get(new_event.ticket_id, (0, None))
        new_event.seq, new_event.prev_hash = seq + 1, prev_hash
        new_event.key_id, new_event.hash = sealing.seal(content(new_event))
        heads[new_event.ticket_id] = (new_event.seq, new_event.hash)


def _read_heads(Event, ticket_ids: list[int]) -> dict[int, tuple[int, str]]:
    """Lock these cases' chains for the rest of the transaction and read their last events."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        for ticket_id in ticket_ids:  # in id order, so two writers of the same cases never deadlock
            db.session.execute(
                text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": _LOCK_NAMESPACE, "key": ticket_id}
            )
    elif dialect == "sqlite" and not db.session.connection().connection.dbapi_connection.in_transaction:
        # Take the database's write lock before reading the last seq: the driver opens a transaction
        # (BEGIN IMMEDIATE, which takes the lock) only at the first write, and a read before it could
        # see a seq another writer is about to take. An UPDATE matching no row locks without changing
        # anything (the append-only triggers fire per row, so never). A change that has written its
        # case or a record already holds the lock: most do, as their records are flushed first.
        db.session.execute(text("UPDATE events SET seq = seq WHERE 0"))
    last_seq = (
        select(Event.ticket_id, func.max(Event.seq).label("seq"))
        .where(Event.ticket_id.in_(ticket_ids))
        .group_by(Event.ticket_id)
        .subquery()
    )
    return {
        row.ticket_id: (row.seq, row.hash)
        for row in db.session.execute(
            select(Event.ticket_id, Event.seq, Event.hash).join(
                last_seq, (Event.ticket_id == last_seq.c.ticket_id) & (Event.seq == last_seq.c.seq)
            )
        )
    }


# The head (seq, seal) of each case whose chain this transaction knows without reading it: a case it
# inserted has none yet; a case it sealed an event of has that event's (its chain is locked until the
# transaction ends, so no one else can add to it). Forgotten when the transaction or a savepoint ends
# (a savepoint rolled back may take events with it), not when a flush's own inner transaction does.
HEADS = "chain_heads"


@event.listens_for(Session, "after_flush")
def _inserted_cases(session, _context) -> None:
    inserted = [obj.id for obj in session.new if isinstance(obj, Ticket)]
    if inserted:
        heads = session.info.setdefault(HEADS, {})
        for ticket_id in inserted:
            heads.setdefault(ticket_id, (0, None))


@event.listens_for(Session, "after_transaction_end")
def _forget_heads(session, transaction) -> None:
    if transaction.parent is None or transaction.nested:
        session.info.pop(HEADS, None)


# --- checking ------------------------------------------------------------------------------------
#
# verify() streams: cases in batches of consecutive ids, each batch's events and sealed records read
# as plain Core rows (no ORM objects, no identity map), so memory stays bounded by the batch and the
# per-event work is one JSON encoding and one HMAC from a keyed hash prepared once per key.


@dataclass
class Break:
    event_id: int | None  # None: a record no event covers, or a case with no event at all
    ticket_id: int | None  # None: the log as a whole (events gone before a checkpoint's head)
    seq: int | None
    problem: str


NO_EVENTS = _l("the case has no events: its whole record log was deleted")
MISSING_BEFORE = _l("an event is missing before this one")
NOT_FOLLOWING = _l("it does not follow the previous event's seal")
BAD_SEAL = _l("its content does not match its seal (altered, or sealed without the audit key)")
RECORD_GONE = _l(
    "%(record)s, sealed by event #%(seq)d, is no longer on this case: deleted or moved behind the application's back"
)
UNSEALED_RECORD = _l("%(record)s was written by no event of the case")
CHANGED_FIELD = _l("%(record)s: its field %(field)s differs from what event #%(seq)d sealed")


def verify(Event, batch: int = 1000) -> tuple[int, Break | None]:
    """Check every case's chain and records; (events checked, the first problem or None)."""
    checked = 0
    for count, problem in check_all(Event, batch):
        checked += count
        if problem is not None:
            return checked, problem
    return checked, None


def verify_case(Event, ticket_id: int) -> tuple[int, Break | None]:
    """verify() for one case: (its events checked, the first problem or None)."""
    for count, problem in check_cases(Event, [ticket_id]):
        return count, problem
    return 0, None


def check_all(Event, batch: int, after: int = 0, through: int | None = None) -> Iterator[tuple[int, Break | None]]:
    """check_cases() for every case (with an id above `after`, up to `through`), `batch` at a time."""
    tickets = Ticket.__table__
    last_id = after
    while True:
        query = select(tickets.c.id).where(tickets.c.id > last_id)
        if through is not None:
            query = query.where(tickets.c.id <= through)
        ids = db.session.scalars(query.order_by(tickets.c.id).limit(batch)).all()
        if not ids:
            return
        yield from check_cases(Event, ids, contiguous=True)
        last_id = ids[-1]


def check_cases(Event, ticket_ids, contiguous: bool = False) -> Iterator[tuple[int, Break | None]]:
    """For each case of `ticket_ids` (ascending): (events checked, its first problem or None).
    `contiguous`: they are every case with an id from the first to the last (read by range)."""
    with _cycles_uncollected():
        chains, records = _read_cases(Event, ticket_ids, contiguous)
        seals = _Seals(sealing.keyring())
        for ticket_id in ticket_ids:
            chain = chains[ticket_id]
            sound, broken = _chain_problem(chain, seals)
            if broken is not None:
                yield sound, broken
            else:
                yield len(chain), _record_problem(ticket_id, chain, records[ticket_id])
        del chains, records  # freed before the collector resumes, so it has none of it to walk


def _read_cases(Event, ticket_ids, contiguous: bool) -> tuple[dict[int, list], dict[int, dict]]:
    """({case: its events as _Read, in order}, {case: {"table:id": the record's snapshot as it is now}})."""
    chains: dict[int, list] = {ticket_id: [] for ticket_id in ticket_ids}
    for row in db.session.execute(_events_of(Event.__table__, ticket_ids, contiguous)).all():
        chains[row[2]].append(_Read(row))
    records: dict[int, dict] = {ticket_id: {} for ticket_id in ticket_ids}
    for sealed in SEALED.values():
        as_read, converted, columns = _snapshot_columns(sealed.model.__table__)
        prefix, split = f"{sealed.table}:", 2 + len(as_read)
        for row in db.session.execute(_records_of(sealed, columns, ticket_ids, contiguous)).all():
            taken = dict(zip(as_read, row[2:split]))
            for index, (name, convert) in enumerate(converted, split):
                taken[name] = convert(row[index])
            records[row[0]][prefix + str(row[1])] = taken
    return chains, records


@contextmanager
def _cycles_uncollected():
    """Python's cycle collector paused while a batch is read and checked: reading makes some 100,000
    dicts and lists, all kept until the batch is checked, and the collector would walk them again and
    again (a third of the check's time). Nothing read forms a cycle; reference counting frees it all
    with the batch. (Paused across the batch's yields too: a caller only counts what it is given.)"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _cases_of(column, ticket_ids, contiguous: bool):
    return column.between(ticket_ids[0], ticket_ids[-1]) if contiguous else column.in_(ticket_ids)


def _events_of(events, ticket_ids, contiguous: bool):
    """The events as _Read takes them: the JSON columns as their text (cast, or PostgreSQL's driver
    would decode them itself, by the standard library) and the moment as the driver gives it (text on
    SQLite), each decoded once by _Read rather than by the column types' processors."""
    c = events.c
    as_given = [cast(c[name], Text).label(name) for name in ("changes", "records")]
    as_given.append(type_coerce(c.created_at, Text).label("created_at"))
    return (
        select(c.id, c.key_id, c.ticket_id, c.seq, c.prev_hash, c.hash, c.actor_id, c.actor_name, c.action, *as_given)
        .where(_cases_of(c.ticket_id, ticket_ids, contiguous))
        .order_by(c.ticket_id, c.seq)
    )


def _decode(text: str):
    """A JSON column's value as stored, by orjson's decoder (several times the standard library's), or
    the standard one for what orjson refuses (NaN, a lone surrogate). orjson reads an integer beyond
    64 bits as a float: an event holding one fails the fast check and is read again (_Read.exact)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class _Read:
    """One event as verify reads it: its place, its seal and the content the seal covers (content())."""

    __slots__ = ("id", "key_id", "ticket_id", "seq", "prev_hash", "hash", "records", "content", "_as_stored")

    def __init__(self, row):
        self.id, self.key_id, self.ticket_id, self.seq, self.prev_hash, self.hash = row[:6]
        actor_id, actor_name, action, changes, records, moment = row[6:]
        self._as_stored = (changes, records)
        self.content = [
            self.prev_hash,
            self.ticket_id,
            self.seq,
            actor_id,
            actor_name,
            action,
            _decode(changes) if isinstance(changes, str) else changes,
            _moment_text(moment),
            _decode(records) if isinstance(records, str) else records,
        ]
        self.records = self.content[8]

    def exact(self) -> list:
        """The content with its JSON columns read by the standard library's decoder."""
        changes, records = (json.loads(value) if isinstance(value, str) else value for value in self._as_stored)
        self.content[6], self.content[8] = changes, records
        self.records = records
        return self.content


def _records_of(sealed: Sealed, columns: list, ticket_ids, contiguous: bool):
    """(its case, its id, *columns) of each row of `sealed` on these cases."""
    table = sealed.model.__table__
    if sealed.parent is None:
        return select(table.c.ticket_id, table.c.id, *columns).where(
            _cases_of(table.c.ticket_id, ticket_ids, contiguous)
        )
    parent_model, column = sealed.parent
    parent = parent_model.__table__
    return (
        select(parent.c.ticket_id, table.c.id, *columns)
        .join(parent, table.c[column] == parent.c.id)
        .where(_cases_of(parent.c.ticket_id, ticket_ids, contiguous))
    )


def _snapshot_columns(table) -> tuple[list[str], list[tuple[str, object]], list]:
    """The columns snapshot() takes, as verify reads them: (the names of those whose values it takes
    as read — text, numbers without a scale, flags, JSON —, (name, conversion) of the others, the
    columns to select: the first ones, then the others, moments as the driver gives them)."""
    as_read, converted, first, then = [], [], [], []
    for column in table.columns:
        kind = column.type  # a TypeDecorator may turn values into anything: left to _plain()
        if column.name == "id":
            continue
        if isinstance(kind, (String, Integer, Boolean, JSON)) and not isinstance(kind, (SQLEnum, TypeDecorator)):
            as_read.append(column.name)
            first.append(column)
        elif _stored_as_value(kind):  # the text stored is the member's value, as snapshot() takes it
            as_read.append(column.name)
            first.append(type_coerce(column, String).label(column.name))
        elif isinstance(kind, UTCDateTime):
            converted.append((column.name, _moment_text))
            then.append(type_coerce(column, Text).label(column.name))
        else:
            converted.append((column.name, partial(_plain, column_type=kind)))
            then.append(column)
    return as_read, converted, first + then


def _stored_as_value(kind) -> bool:
    """Whether an enum column stores each member's value (ticketing.types.enum_type), so that the text
    read is _plain() of the member it stands for."""
    members = getattr(kind, "enum_class", None)
    return isinstance(kind, SQLEnum) and members is not None and list(kind.enums) == [m.value for m in members]


def _moment_text(value) -> str | None:
    """_plain() of a UTCDateTime column's value as the driver gives it (naive UTC text on SQLite)."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":  # as SQLAlchemy writes it: text work only
            fraction = "" if value.endswith("000000") else value[19:]
            return f"{value[:10]}T{value[11:19]}{fraction}+00:00"
        value = datetime.fromisoformat(value)
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value.isoformat()


class _Seals:
    """sealing.is_sealed() for many events, with its parts made once: the secrets, and the canonical
    encoder (the C encoder json.dumps builds on every call, built once with the same settings).

    An event is checked first on orjson's encoding of what orjson read: several times faster, and for
    what an event holds the same bytes as the canonical encoding (compact, keys sorted, text as is). A
    seal holding on those bytes proves them the bytes sealed, and what was read the content sealed
    (orjson writes no integer it could misread). Where the two differ — a float in exponent form
    (1e16 against 1e+16), an integer beyond 64 bits — the event is read again by the standard library
    and checked on the canonical encoding, so nothing is accepted that the canonical check would not."""

    def __init__(self, ring):
        self._secrets = dict(ring.keys)
        if c_make_encoder is None:  # a Python without the C accelerator: sealing.canonical's own encoder
            self._encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
        else:
            chunks = c_make_encoder(None, _unencodable, encode_basestring, None, ":", ",", True, False, True)
            self._encode = lambda content: "".join(chunks(content, 0))

    def holds(self, row: _Read) -> bool:
        secret = self._secrets.get(row.key_id)
        if secret is None or not row.hash:
            return False
        try:
            if _seals(secret, orjson.dumps(row.content, option=orjson.OPT_SORT_KEYS), row.hash):
                return True
        except orjson.JSONEncodeError:
            pass
        return _seals(secret, self._encode(row.exact()).encode("utf-8"), row.hash)


def _seals(secret: bytes, data: bytes, mac: str) -> bool:
    return hmac.compare_digest(hmac.digest(secret, data, "sha256").hex(), mac)


def _unencodable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _chain_problem(chain: list, seals: _Seals, previous=None) -> tuple[int, Break | None]:
    """(how many events before the first broken one are sound, that event's problem or None);
    `previous`: the already verified event the chain continues (None: it starts at #1)."""
    for index, row in enumerate(chain):
        problem = None
        if row.seq != (previous.seq + 1 if previous else 1):
            problem = MISSING_BEFORE
        elif row.prev_hash != (previous.hash if previous else None):
            problem = NOT_FOLLOWING
        elif not seals.holds(row):
            problem = BAD_SEAL
        if problem:
            return index, Break(row.id, row.ticket_id, row.seq, problem)
        previous = row
    return len(chain), None


def _record_problem(ticket_id: int, chain: list, current: dict[str, dict]) -> Break | None:
    """The first record of the case that differs from the last snapshot sealed of it; `current`
    holds each record's snapshot as the database has it now."""
    if not chain:
        return Break(None, ticket_id, None, NO_EVENTS)
    latest: dict[str, tuple] = {}  # "table:id" -> (the last event sealing it, its snapshot)
    for row in chain:
        for key, values in (row.records or {}).items():
            latest[key] = (row, values)
    for key, (event_row, _values) in latest.items():
        if key not in current:
            return Break(
                event_row.id, ticket_id, event_row.seq, RECORD_GONE % dict(record=_record_name(key), seq=event_row.seq)
            )
    for key, values in current.items():
        if key not in latest:
            return Break(None, ticket_id, None, UNSEALED_RECORD % dict(record=_record_name(key)))
        event_row, sealed_values = latest[key]
        if sealed_values == values:
            continue
        for column, value in values.items():
            if sealed_values.get(column) != value:
                return Break(
                    event_row.id,
                    ticket_id,
                    event_row.seq,
                    CHANGED_FIELD % dict(record=_record_name(key), field=column, seq=event_row.seq),
                )
    return None


def _record_name(key: str) -> str:
    table, _, row_id = key.partition(":")
    return f"{table} #{row_id}"


# --- the database refuses to change the record log or its records ---------------------------------

SQLITE_TRIGGERS = [
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the record log is append-only'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'the record log is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the record log is append-only'; END $$",
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only()",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events FOR EACH ROW EXECUTE FUNCTION events_append_only()",
    "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT "
    "EXECUTE FUNCTION events_append_only()",
]


def record_triggers(table: str, fixed: list[str], dialect: str) -> list[str]:
    """The SQL making `table`'s rows undeletable and its `fixed` columns unchangeable."""
    columns = ", ".join(fixed)
    if dialect == "sqlite":
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in fixed)
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {columns} ON {table} WHEN {changed} "
            "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'records are append-only'); END",
        ]
    return [
        "CREATE OR REPLACE FUNCTION records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'records are append-only'; END $$",
        # OF lists the columns; WHEN lets an UPDATE through that sets them to what they were (as text:
        # a json column has no equality operator).
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {columns} ON {table} FOR EACH ROW "
        f"WHEN (({', '.join(f'OLD.{c}::text' for c in fixed)}) IS DISTINCT FROM "
        f"({', '.join(f'NEW.{c}::text' for c in fixed)})) EXECUTE FUNCTION records_append_only()",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW "
        "EXECUTE FUNCTION records_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT "
        "EXECUTE FUNCTION records_append_only()",
    ]


def protect(table) -> None:
    """Install the triggers whenever the table is created (tests' create_all; migrations run the same SQL)."""
    for statement in SQLITE_TRIGGERS:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in POSTGRES_TRIGGERS:
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))


def app_role_grants(role: str, database: str, append_only: list[str]) -> list[str]:
    """The PostgreSQL statements giving `role` what the application needs and no more: it owns
    nothing (so it can neither disable nor drop a trigger), may only add to the `append_only` logs,
    may never delete a sealed record, and may update only the columns a later action sets."""
    quoted = f'"{role}"'
    statements = [
        f'GRANT CONNECT ON DATABASE "{database}" TO {quoted}',
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {quoted}",
    ]
    for table in append_only:
        statements.append(f"REVOKE UPDATE, DELETE ON {table} FROM {quoted}")
    for sealed in SEALED.values():
        statements.append(f"REVOKE UPDATE, DELETE ON {sealed.table} FROM {quoted}")
        if sealed.mutable:
            statements.append(f"GRANT UPDATE ({', '.join(sorted(sealed.mutable))}) ON {sealed.table} TO {quoted}")
    return statements
