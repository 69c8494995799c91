"""The password policy (OWASP ASVS 6.2.4): long enough, and not one anyone would guess first.

common-passwords.txt.gz is the list of the 20,000 most common passwords (Royce Williams' list,
lower-cased) that Django ships under its BSD licence; a password is compared with it lower-cased.
"""

import gzip
from functools import cache
from pathlib import Path

from ticketing.i18n import lazy_gettext as _l

MIN_LENGTH = 10
MAX_LENGTH = 200  # the forms' limit: hashing a megabyte of "password" is work for nobody
COMMON_LIST = Path(__file__).with_name("common-passwords.txt.gz")


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _repeats(password: str) -> bool:
    """One character or a short group over and over: aaaaaaaaaa, abcabcabca, 1212121212."""
    if len(set(password)) < 4:
        return True
    return any(
        password == (password[:size] * len(password))[: len(password)] for size in range(1, len(password) // 2 + 1)
    )


def _run(password: str) -> bool:
    """Each character the next (or the previous) of the one before: 1234567890, abcdefghij, 9876543210."""
    steps = {
        (ord(b) - ord(a)) % 10 if a.isdigit() and b.isdigit() else ord(b) - ord(a)
        for a, b in zip(password, password[1:])
    }
    return len(steps) == 1 and steps <= {1, -1, 9}


def weakness(password: str):
    """Why the password is refused (a message to show beside the field), or None when it is fine."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return _l("A password needs at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _l("A password may have at most %(n)d characters.", n=MAX_LENGTH)
    if _repeats(password):
        return _l("A password cannot be one character or a short group repeated (like aaaaaaaaaa or abcabcabca).")
    if _run(password):
        return _l("A password cannot be a run of letters or digits (like 1234567890 or abcdefghij).")
    if password.lower() in common_passwords():
        return _l("This is one of the most common passwords, the first an attacker tries: choose another.")
    return None
