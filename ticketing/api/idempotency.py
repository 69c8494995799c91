"""Idempotent creation: a retried POST with the same Idempotency-Key makes one case only."""

import hashlib
import json

from flask import request
from sqlalchemy import select

from ticketing.api.models import IdempotentRequest
from ticketing.api.problems import ApiProblem
from ticketing.cases.models import Ticket
from ticketing.clock import utcnow
from ticketing.extensions import db
from ticketing.i18n import gettext as _

HEADER = "Idempotency-Key"


def key_from_request() -> str | None:
    """The caller's key: 1-200 visible ASCII characters (a UUID is typical)."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not 1 <= len(key) <= 200 or not all(33 <= ord(c) < 127 for c in key):
        raise ApiProblem(
            400, "idempotency-key", _("The Idempotency-Key header must be 1 to 200 visible ASCII characters.")
        )
    return key


def body_hash(body) -> str:
    """The same request body in another key order or spacing hashes the same."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def earlier_case(user, key: str, digest: str) -> Ticket | None:
    """The case an earlier request with this key made, or None; a different body is refused."""
    row = db.session.scalar(
        select(IdempotentRequest).where(IdempotentRequest.user_id == user.id, IdempotentRequest.key == key)
    )
    if row is None:
        return None
    if row.body_hash != digest:
        raise ApiProblem(
            422,
            "idempotency-key-reused",
            _("This Idempotency-Key was used with a different request body."),
            _("Use a new key for a new complaint; nothing was saved."),
        )
    return db.session.get(Ticket, row.ticket_id)


def remember(user, key: str, digest: str, ticket: Ticket) -> None:
    """Stored in the same transaction as the case: both are saved, or neither."""
    db.session.add(
        IdempotentRequest(user_id=user.id, key=key, body_hash=digest, ticket_id=ticket.id, created_at=utcnow())
    )
