"""Anchors: the heads of the cases' chains (and of the security log's), kept outside the database.

A chain proves that nothing inside it changed, but not that it was not cut short: deleting a case's
last events, or all of them, or restoring an older backup, leaves chains that are intact in
themselves. An anchor — written every day to a file and, when AUDIT_ANCHOR_EMAIL is set, mailed to
an auditor — records cases' last events (number and seal) and the security log's head, and is
sealed itself. `check()` holds the database against one: every anchored event must still be there
with the seal it had.

The daily anchor is incremental (format 2): it lists only the heads that changed since the previous
anchor (the cases with an event after its last event id), the digest of that previous anchor (so a
folder of anchors is a chain of its own: one removed or altered is noticed), and log-wide totals —
the events, the last event id, the cases with a log and a digest over every case's head (the sum,
modulo 2**256, of a SHA-256 per head, kept up to date from the previous anchor's). The first anchor in
a folder, or one taken without a previous one, lists every head. Format 1 (every head, no chain) is
still read and checked.
"""

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from ticketing import sealing
from ticketing.auth import security_log
from ticketing.cases.audit import Event
from ticketing.cases.models import Ticket
from ticketing.extensions import db
from ticketing.i18n import lazy_gettext as _l

FORMAT = "complaint-desk record-log anchor 2"
FORMATS = ("complaint-desk record-log anchor 1", FORMAT)
_BATCH = 500
_DIGEST_MODULUS = 2**256


def take(now: datetime, previous: dict | None = None) -> dict:
    """An anchor of the log as it stands, sealed: the heads changed since the `previous` anchor
    (every head without one, or when it is of the old format) and the log-wide totals."""
    events = Event.__table__
    through = db.session.scalar(select(func.max(events.c.id))) or 0
    after = previous.get("max_event_id") if previous else None
    if after is None:  # no previous anchor, or one of format 1: every head
        changed = db.session.scalars(select(events.c.ticket_id).distinct().where(events.c.id <= through)).all()
        digest, cases_before = 0, 0
    else:
        query = select(events.c.ticket_id).distinct().where(events.c.id > after, events.c.id <= through)
        changed = db.session.scalars(query).all()
        digest, cases_before = int(previous["heads_digest"], 16), previous["heads"]
    changed = sorted(changed)
    heads, new_cases = [], 0
    for start in range(0, len(changed), _BATCH):
        batch = changed[start : start + _BATCH]
        now_heads = _heads(batch, through)
        old_heads = _heads(batch, after) if after is not None else {}
        for ticket_id in batch:
            if ticket_id in old_heads:
                digest -= _head_digest(ticket_id, *old_heads[ticket_id])
            else:
                new_cases += 1
            digest += _head_digest(ticket_id, *now_heads[ticket_id])
            heads.append([ticket_id, *now_heads[ticket_id]])
    security = security_log.head()
    body = {
        "format": FORMAT,
        "made_at": now.isoformat(),
        "previous": {"made_at": previous["made_at"], "digest": digest_of(previous)} if previous else None,
        "events": _events_up_to(through),
        "max_event_id": through,
        "heads": cases_before + new_cases,
        "heads_digest": format(digest % _DIGEST_MODULUS, "064x"),
        "cases": heads,
        "security_log": list(security) if security else None,
    }
    body["key_id"], body["seal"] = sealing.seal(body)
    return body


def _events_up_to(through: int) -> int:
    """All events less those after `through` (on SQLite a count of all reads the narrowest index,
    a count of an id range the table's rows)."""
    events = Event.__table__
    total = db.session.scalar(select(func.count()).select_from(events))
    return total - db.session.scalar(select(func.count()).select_from(events).where(events.c.id > through))


def _heads(ticket_ids: list[int], through: int) -> dict[int, tuple[int, str]]:
    """{ticket id: (seq, hash)} of each case's last event with an id up to `through`."""
    events = Event.__table__
    last = (
        select(events.c.ticket_id, func.max(events.c.seq).label("seq"))
        .where(events.c.ticket_id.in_(ticket_ids), events.c.id <= through)
        .group_by(events.c.ticket_id)
        .subquery()
    )
    rows = db.session.execute(
        select(events.c.ticket_id, events.c.seq, events.c.hash).join(
            last, (events.c.ticket_id == last.c.ticket_id) & (events.c.seq == last.c.seq)
        )
    )
    return {row.ticket_id: (row.seq, row.hash) for row in rows}


def _head_digest(ticket_id: int, seq: int, mac: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{ticket_id}:{seq}:{mac}".encode()).digest(), "big")


def digest_of(anchor: dict) -> str:
    """The SHA-256 of an anchor's canonical form, seal included: what the next anchor links to."""
    return hashlib.sha256(sealing.canonical(anchor)).hexdigest()


def newest(folder: str | Path) -> dict | None:
    """The newest anchor in `folder` (None: none yet, or it cannot be read: the next one lists every head)."""
    paths = sorted(Path(folder).glob("anchor-*.json"))
    if not paths:
        return None
    try:
        return read(paths[-1])
    except ValueError:
        return None


def write(anchor: dict, folder: str | Path) -> Path:
    """The anchor as a file in `folder`, named by its moment; written whole or not at all."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    moment = datetime.fromisoformat(anchor["made_at"]).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"anchor-{moment}.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(anchor, ensure_ascii=False, indent=0), encoding="utf-8")
    os.replace(partial, path)
    return path


def read(path: str | Path) -> dict:
    """An anchor file's content; ValueError when it is not an anchor."""
    try:
        anchor = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable anchor file ({error})") from error
    if not isinstance(anchor, dict) or anchor.get("format") not in FORMATS:
        raise ValueError(f"{path}: not an anchor file of this product")
    return anchor


BAD_ANCHOR = _l("the anchor itself was altered, or sealed with a key this desk does not have")
ALL_GONE = _l("%(case)s: all its events are gone (the anchor of %(date)s ends at event #%(seq)d)")
CUT_SHORT = _l(
    "%(case)s: events #%(first)d to #%(seq)d are gone (deleted, or an older backup restored); "
    "the anchor of %(date)s had them"
)
LAST_GONE = _l("%(case)s: event #%(seq)d is gone (deleted, or an older backup restored); the anchor of %(date)s had it")
REWRITTEN = _l("%(case)s: event #%(seq)d is not the one anchored on %(date)s (history rewritten)")
SECURITY_LOG = _l("security log: %(problem)s")


UNLINKED = _l(
    "the anchor of %(date)s does not follow the one of %(previous)s before it: an anchor between them was "
    "removed, or one of them altered"
)


def check(anchor: dict, limit: int = 20, security: bool = True, skip: set | None = None) -> list[str]:
    """What the database lost or rewrote since `anchor` was taken (empty: nothing), at most `limit`;
    `security`: its security-log head too; `skip`: cases not to report (again), added to as reported."""
    sealed = {key: value for key, value in anchor.items() if key not in ("key_id", "seal")}
    if not sealing.is_sealed(sealed, anchor.get("key_id"), anchor.get("seal")):
        return [str(BAD_ANCHOR)]
    day = anchor["made_at"][:10]
    problems: list[str] = []
    cases = anchor["cases"]
    for start in range(0, len(cases), _BATCH):
        problems += _check_batch(cases[start : start + _BATCH], day, skip if skip is not None else set())
        if len(problems) >= limit:
            return problems[:limit]
    if security and anchor.get("security_log"):
        _checked, broken = security_log.verify(anchor=tuple(anchor["security_log"]))
        if broken is not None:
            problems.append(SECURITY_LOG % dict(problem=broken))
    return problems[:limit]


def check_path(path: str | Path, limit: int = 20) -> list[str]:
    """check() for an anchor file, or for every anchor in a folder: each one's heads (the newest's
    security-log head: an intact security chain holding it holds the older ones), and each
    incremental anchor's link to the one before it. ValueError: a file that is not an anchor."""
    path = Path(path)
    if not path.is_dir():
        return check(read(path), limit)
    paths = sorted(path.glob("anchor-*.json"))
    if not paths:
        raise ValueError(f"{path}: no anchor files (anchor-*.json) in this folder")
    problems, before = [], None
    for file in paths:  # the chain of anchors, oldest first (one anchor in memory at a time)
        anchor = read(file)
        link = anchor.get("previous")
        if before is not None and link is not None and link["digest"] != before[1]:
            problems.append(f"{file.name}: " + UNLINKED % dict(date=anchor["made_at"][:10], previous=before[0]))
        before = (anchor["made_at"][:10], digest_of(anchor))
    reported: set = set()
    for file in reversed(paths):  # newest first: a case cut short is named once, by its latest anchor
        found = check(read(file), limit - len(problems), security=file == paths[-1], skip=reported)
        problems += [f"{file.name}: {problem}" for problem in found]
        if len(problems) >= limit:
            break
    return problems[:limit]


def _check_batch(cases: list, day: str, skip: set) -> list[str]:
    # Each case's anchored event by probing the unique (ticket_id, seq) index with both lists (a row-value
    # IN of the pairs is not looked up by index on SQLite); the pairs not anchored are left out after.
    pairs = {(ticket_id, seq) for ticket_id, seq, _hash in cases}
    anchored = select(Event.ticket_id, Event.seq, Event.hash).where(
        Event.ticket_id.in_({ticket_id for ticket_id, _seq in pairs}), Event.seq.in_({seq for _id, seq in pairs})
    )
    found = {
        (row.ticket_id, row.seq): row.hash for row in db.session.execute(anchored) if (row.ticket_id, row.seq) in pairs
    }
    lost = [
        (ticket_id, seq, anchored_hash)
        for ticket_id, seq, anchored_hash in cases
        if ticket_id not in skip and found.get((ticket_id, seq)) != anchored_hash
    ]
    if not lost:
        return []
    ticket_ids = [ticket_id for ticket_id, _seq, _hash in lost]
    last = dict(
        db.session.execute(
            select(Event.ticket_id, func.max(Event.seq))
            .where(Event.ticket_id.in_(ticket_ids))
            .group_by(Event.ticket_id)
        ).all()
    )
    references = dict(db.session.execute(select(Ticket.id, Ticket.reference).where(Ticket.id.in_(ticket_ids))).all())
    problems = []
    for ticket_id, seq, _hash in lost:
        skip.add(ticket_id)
        case = references.get(ticket_id) or f"ticket id {ticket_id}"
        if (ticket_id, seq) in found:
            problems.append(REWRITTEN % dict(case=case, seq=seq, date=day))
        elif ticket_id not in last:
            problems.append(ALL_GONE % dict(case=case, seq=seq, date=day))
        elif last[ticket_id] + 1 == seq:
            problems.append(LAST_GONE % dict(case=case, seq=seq, date=day))
        else:
            problems.append(CUT_SHORT % dict(case=case, first=last[ticket_id] + 1, seq=seq, date=day))
    return problems
