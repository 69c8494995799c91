"""Failed logins counted per account, whatever address they come from, in the rate limiter's storage
(RATELIMIT_STORAGE_URI: Redis when it is redis://, so every web process counts together).

Past LOGIN_ACCOUNT_RATE_LIMIT failures (default 10 in 15 minutes) the address typed is refused, the
right password too, until the oldest failure leaves the window: a throttle, never a lock, so an
attacker can slow an account down but never lock its owner out for good. Counted by the address as
typed, known or not, so the refusal says nothing about whether an account exists.
"""

import hashlib
import math
from datetime import datetime, timezone

from flask import current_app
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

NAMESPACE = "login-account"


def _limiter() -> MovingWindowRateLimiter:
    """One storage per app, from the limiter's own setting (a process's apps never share a memory one)."""
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    made = current_app.extensions.get("ticketing.auth.throttle")
    if made is None or made[0] != uri:
        options = current_app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}
        made = (uri, MovingWindowRateLimiter(storage_from_string(uri, **options)))
        current_app.extensions["ticketing.auth.throttle"] = made
    return made[1]


def _item():
    return parse(current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"])


def _identifiers(email: str) -> tuple[str, ...]:
    """The address hashed: the storage holds no e-mail addresses."""
    digest = hashlib.sha256((email or "").strip().lower().encode("utf-8", "replace")).hexdigest()
    return (current_app.config.get("RATELIMIT_KEY_PREFIX") or "", NAMESPACE, digest)


def refused_until(email: str) -> datetime | None:
    """When the address may be tried again, while its failures are at the limit; None: it may now."""
    limiter, item = _limiter(), _item()
    if limiter.test(item, *_identifiers(email)):
        return None
    reset = limiter.get_window_stats(item, *_identifiers(email)).reset_time
    return datetime.fromtimestamp(math.ceil(reset / 60) * 60, timezone.utc)  # to the minute: nobody needs seconds


def count_failure(email: str) -> None:
    _limiter().hit(_item(), *_identifiers(email))


def forget_failures(email: str) -> None:
    """A successful login starts the count again."""
    _limiter().clear(_item(), *_identifiers(email))
