"""Fixtures for the notify tests: a real IMAP server (Dovecot) for mail intake."""

import pytest

from tests.imap_server import ImapServer, require_dovecot


@pytest.fixture
def imap_server(tmp_path):
    """A started Dovecot of this test's own under tmp_path, stopped afterwards; skips without Dovecot."""
    require_dovecot()
    with ImapServer(tmp_path / "imap") as server:
        yield server
