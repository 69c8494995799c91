"""The test IMAP server (tests/imap_server.py) answers as the mail-intake poller will need: real Dovecot logins
over IMAP and IMAPS, UIDs that grow, messages read back byte for byte without being marked \\Seen, and a
UIDVALIDITY that changes when a folder is made again. Each test has a Dovecot of its own (the imap_server fixture).
"""

import imaplib
import os
import signal
import ssl

import pytest

from tests.imap_server import ImapServer, live_processes, require_dovecot


def message(subject: str) -> bytes:
    """A small mail as it arrives over SMTP: CRLF line ends, which IMAP keeps as they are."""
    return (
        "From: Customer <customer@example.org>\r\n"
        "To: desk@example.test\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"The body of {subject}.\r\n"
    ).encode()


def uids(imap: imaplib.IMAP4, criteria: str) -> list[int]:
    status, [found] = imap.uid("SEARCH", criteria)
    assert status == "OK"
    return [int(uid) for uid in found.split()]


def test_the_user_logs_in_over_the_plain_port_and_over_imaps(imap_server):
    with imaplib.IMAP4(imap_server.host, imap_server.port) as imap:
        assert imap.login(imap_server.user, imap_server.password)[0] == "OK"

    trusting = ssl.create_default_context(cafile=imap_server.certificate)
    with imaplib.IMAP4_SSL(imap_server.host, imap_server.tls_port, ssl_context=trusting) as imap:
        assert imap.login(imap_server.user, imap_server.password)[0] == "OK"
        assert imap.sock.version() in ("TLSv1.2", "TLSv1.3")

    with pytest.raises(ssl.SSLCertVerificationError):  # the system's authorities do not know the certificate
        imaplib.IMAP4_SSL(imap_server.host, imap_server.tls_port, ssl_context=ssl.create_default_context())


def test_a_wrong_password_or_an_unknown_user_is_refused(imap_server):
    with imaplib.IMAP4(imap_server.host, imap_server.port) as imap:
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            imap.login(imap_server.user, "imap password 2")
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            imap.login("nobody@example.test", imap_server.password)


def test_appended_messages_come_back_by_uid_byte_for_byte_and_unseen(imap_server):
    first, second = message("first complaint"), message("second complaint")
    first_uid = imap_server.append(first)
    second_uid = imap_server.append(second)
    assert first_uid < second_uid

    with imap_server.session() as imap:
        assert imap.select("INBOX")[0] == "OK"  # read-write: a plain BODY[] would set \Seen here
        assert uids(imap, f"UID {first_uid}:*") == [first_uid, second_uid]
        assert uids(imap, f"UID {second_uid}:*") == [second_uid]
        # n:* past the last UID still matches the last message (RFC 3501): a poller keeps only UIDs >= n.
        assert uids(imap, f"UID {second_uid + 1}:*") == [second_uid]
        for uid, sent in ((first_uid, first), (second_uid, second)):
            status, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
            assert status == "OK"
            assert data[0][1] == sent

    with imap_server.session() as imap:  # a later session sees them still unread
        imap.select("INBOX", readonly=True)
        assert uids(imap, "UNSEEN") == [first_uid, second_uid]
        status, data = imap.uid("FETCH", f"{first_uid}:{second_uid}", "(FLAGS)")
        assert status == "OK" and len(data) == 2
        assert not any(b"\\Seen" in line for line in data)


def test_recreating_the_inbox_changes_its_uidvalidity_and_empties_it(imap_server):
    imap_server.append(message("before"))
    imap_server.append(message("also before"))
    before = imap_server.uidvalidity()

    with imap_server.session() as watching:  # a session left open, as a poller's may be
        watching.select("INBOX")
        after = imap_server.recreate()
        with pytest.raises(imaplib.IMAP4.abort):  # Dovecot ended it
            watching.noop()

    assert after != before
    assert imap_server.uidvalidity() == after
    with imap_server.session() as imap:
        status, [exists] = imap.select("INBOX")
        assert (status, exists) == ("OK", b"0")
        assert uids(imap, "ALL") == []
    assert imap_server.append(message("after")) == 1  # UIDs start again


def test_recreating_another_folder_deletes_and_creates_it_with_a_new_uidvalidity(imap_server):
    imap_server.append(message("filed"), folder="Archive")
    before = imap_server.uidvalidity(folder="Archive")

    after = imap_server.recreate(folder="Archive")

    assert after != before
    with imap_server.session() as imap:
        status, [exists] = imap.select('"Archive"')
        assert (status, exists) == ("OK", b"0")
    assert imap_server.append(message("filed again"), folder="Archive") == 1


def test_an_added_user_logs_in_with_their_password_to_a_mailbox_of_their_own(imap_server):
    imap_server.append(message("for the desk"))
    imap_server.add_user("intake@example.test", "imap password 2")

    uid = imap_server.append(message("for intake"), user="intake@example.test")

    with imaplib.IMAP4(imap_server.host, imap_server.port) as imap:
        imap.login("intake@example.test", "imap password 2")
        imap.select("INBOX", readonly=True)
        assert uids(imap, "ALL") == [uid]
        assert imap.uid("FETCH", str(uid), "(BODY.PEEK[])")[1][0][1] == message("for intake")


def test_stop_ends_every_dovecot_process_and_may_be_called_twice(tmp_path):
    require_dovecot()
    server = ImapServer(tmp_path / "imap").start()
    server.append(message("kept"))
    group, port = server.pid, server.port

    server.stop()
    server.stop()

    assert live_processes(group) == []
    with pytest.raises(ConnectionRefusedError):
        imaplib.IMAP4(server.host, server.port)

    with server:  # started again: the same port, the same mail
        assert server.port == port
        with server.session() as imap:
            imap.select("INBOX", readonly=True)
            assert uids(imap, "ALL") == [1]
        os.killpg(server.pid, signal.SIGKILL)  # a crash: stop() still reaps it
