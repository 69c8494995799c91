"""Keyed seals for the chained logs (the record log of cases, the security log).

A seal is an HMAC-SHA256 over the canonical JSON of what it covers, with a secret held outside the
database: someone who can write the database but not read the key cannot recompute a seal, so they
cannot rewrite history and make it verify again.

The keys come from AUDIT_KEYS (environment) or, failing that, AUDIT_KEY_FILE: one key per line or
per space, written `<id>:<secret>`; the last one seals, every one verifies. To rotate, add a new key
at the end and keep the old ones (events name the key that sealed them). A secret is at least 32
characters; an id is up to 16 letters, digits, `-` or `_`.

Without either, development settings (APP_ENV=development) make a key file in the instance folder
on first start (readable by the owner only); production settings refuse to start instead
(ticketing/setup.py configure_production). Keep a copy of the keys apart from the database's backups,
or history cannot be verified.
"""

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
MIN_SECRET = 32

log = logging.getLogger(__name__)


class UnusableKeys(ValueError):
    """The configured keys cannot be used; the message says why (raised at start-up)."""


@dataclass(frozen=True)
class Keyring:
    keys: dict  # id -> secret (bytes)
    current: str  # the id of the key that seals

    @classmethod
    def parse(cls, text: str, source: str) -> "Keyring":
        keys: dict[str, bytes] = {}
        current = None
        for entry in text.split():
            key_id, sep, secret = entry.partition(":")
            if not sep or not _ID.fullmatch(key_id):
                raise UnusableKeys(f"{source}: each key is written <id>:<secret>, the id up to 16 letters or digits")
            if len(secret) < MIN_SECRET:
                raise UnusableKeys(f"{source}: the secret of key {key_id!r} is shorter than {MIN_SECRET} characters")
            if key_id in keys:
                raise UnusableKeys(f"{source}: key {key_id!r} is given twice")
            keys[key_id] = secret.encode("utf-8")
            current = key_id
        if current is None:
            raise UnusableKeys(f"{source}: no key")
        return cls(keys, current)


def load(config, instance_path: str) -> Keyring:
    """The keyring the configuration names (see the module's description)."""
    if config.get("AUDIT_KEYS"):
        return Keyring.parse(config["AUDIT_KEYS"], "AUDIT_KEYS")
    path = Path(config.get("AUDIT_KEY_FILE") or Path(instance_path) / "audit-keys")
    if not path.exists():
        if config.get("AUDIT_KEY_FILE"):
            raise UnusableKeys(f"AUDIT_KEY_FILE: {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(f"dev1:{secrets.token_hex(32)}\n")
        log.warning("Made a development audit key in %s: keep a copy apart from the database's backups.", path)
    return Keyring.parse(path.read_text(encoding="utf-8"), str(path))


def keyring() -> Keyring:
    return current_app.extensions["audit_keys"]


def canonical(content) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def seal(content, key_id: str | None = None) -> tuple[str, str]:
    """(the id of the key used, the hex HMAC-SHA256 of `content`) with the current key or `key_id`'s."""
    ring = keyring()
    key_id = key_id or ring.current
    return key_id, hmac.new(ring.keys[key_id], canonical(content), hashlib.sha256).hexdigest()


def is_sealed(content, key_id: str | None, mac: str | None) -> bool:
    """True when `mac` is the seal of `content` by the key `key_id` (False for a key not in the ring)."""
    if key_id not in keyring().keys or not mac:
        return False
    return hmac.compare_digest(seal(content, key_id)[1], mac)
