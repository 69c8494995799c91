"""A real IMAP server for tests: Debian's Dovecot on 127.0.0.1, with Maildir users of its own.

`ImapServer(folder)` writes a Dovecot configuration, a self-signed certificate, the users' passwords
and their mail (Maildir) into `folder` and runs `/usr/sbin/dovecot -F` as a process group of its own,
listening on two free ports of 127.0.0.1: plain IMAP (plaintext logins allowed) and IMAPS. Nothing is
mocked, so a client tested against it meets what Dovecot really answers: APPENDUID, UIDVALIDITY,
the \\Seen flag, BYE. Two settings differ from a production server, for quick tests: a failed login
is answered at once (within Dovecot's half-second timer) and no growing penalty slows the next ones.

Dovecot will not run its login processes or touch mail as root. Run as root (as the tests are
here), the login processes run as Debian's `dovenull` and the mail belongs to `nobody`, each mail
process chrooted into `folder/mail` so that the root-only folders above it (pytest's tmp_path)
need not be opened up; run as another user, everything runs as that user.

The core has no pytest dependency; `require_dovecot()` is the one helper that speaks pytest.
"""

import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.mail import free_port

DOVECOT = Path("/usr/sbin/dovecot")
DOVEADM = Path("/usr/bin/doveadm")
DEFAULT_USER = "desk@example.test"
DEFAULT_PASSWORD = "imap password 1"
START_TIMEOUT = 15.0  # seconds for Dovecot to greet on its port
# A Unix socket's path holds at most 107 bytes; the longest Dovecot puts in base_dir is
# "token-login/imap-urlauth". A longer base_dir (pytest's tmp_path often is) goes to a short temporary folder.
BASE_DIR_LIMIT = 80
CHROOTED_SERVICES = ("anvil", "imap-login", "imap-urlauth-login", "ipc", "old-stats")  # chrooted by default


def require_dovecot() -> None:
    """Skip the calling test when Dovecot is not installed, or fail it when MAIL_SERVER_REQUIRED=1 (as .ci/run sets)."""
    if DOVECOT.exists() and DOVEADM.exists():
        return
    import pytest

    reason = f"{DOVECOT} is missing (apt-get install dovecot-imapd)"
    if os.environ.get("MAIL_SERVER_REQUIRED") == "1":
        pytest.fail(f"MAIL_SERVER_REQUIRED=1 but {reason}", pytrace=False)
    pytest.skip(reason)


class ImapServer:
    """Dovecot serving IMAP on 127.0.0.1 from `folder`, for one test; a context manager that starts and stops it.

    The users are `user`/`password` from the constructor (by default desk@example.test with
    "imap password 1") and any given to `add_user`, before or after the start. `stop()` then
    `start()` again restarts Dovecot on the same ports with the same mail.
    """

    host = "127.0.0.1"

    def __init__(self, folder: Path, user: str = DEFAULT_USER, password: str = DEFAULT_PASSWORD):
        self.folder = Path(folder).resolve()
        self.user = user
        self.password = password
        self.port: int | None = None
        self.tls_port: int | None = None
        self.certificate = self.folder / "certificate.pem"
        self.config = self.folder / "dovecot.conf"
        self.log = self.folder / "log" / "dovecot.log"
        self.mail = self.folder / "mail"
        self._users: dict[str, str] = {}
        self._process: subprocess.Popen | None = None
        self._output = None
        self._log_offset = 0  # where this start's lines begin in the log
        self._short_base_dir: Path | None = None
        me = pwd.getpwuid(os.getuid())
        # Dovecot's own processes (config, auth, log) run as whoever runs the tests.
        self._internal_user, self._internal_group = me.pw_name, grp.getgrgid(os.getgid()).gr_name
        self._chroot = os.geteuid() == 0
        if self._chroot:
            mail_owner = pwd.getpwnam("nobody")
            self._login_user = "dovenull" if _is_user("dovenull") else "nobody"
        else:
            mail_owner, self._login_user = me, me.pw_name
        self._mail_uid, self._mail_gid = mail_owner.pw_uid, mail_owner.pw_gid
        for name in ("log", "state", "mail", "users"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        os.chown(self.mail, self._mail_uid, self._mail_gid)
        self.add_user(user, password)

    def __enter__(self) -> "ImapServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def add_user(self, name: str, password: str) -> None:
        """A user who can log in with `password`, with a Maildir of their own.

        Each user has a passwd-file of their own (users/<name>): Dovecot rereads a changed passwd-file
        at most once a second, but opens a new one at the first login, so a user added while it runs can log in at once.
        """
        for value in (name, password):
            if ":" in value or "\n" in value or not value:
                raise ValueError(f"{value!r}: user names and passwords here may not be empty or hold ':' or newlines")
        if "/" in name or name.startswith("."):
            raise ValueError(f"{name!r}: a user name here may not hold '/' or start with '.'")
        if name in self._users:
            raise ValueError(f"{name!r} is a user already")
        self._users[name] = password
        home = self.mail / name
        home.mkdir(exist_ok=True)
        os.chown(home, self._mail_uid, self._mail_gid)
        (self.folder / "users" / name).write_text(f"{name}:{{PLAIN}}{password}::::::\n")

    def start(self) -> "ImapServer":
        """Start Dovecot and return once it greets on the plain port; raise with its log's tail if it does not.

        The ports come from free_port(); should another process take one before Dovecot binds it,
        the start is tried again on new ports (on a restart the old ports are tried first).
        """
        if self._process is not None:
            return self
        if not self.certificate.exists():
            self._make_certificate()
        if self.port is None:
            self._choose_ports()
        for attempt in range(1, 4):
            self._launch()
            try:
                self._wait_for_greeting()
                return self
            except RuntimeError:
                taken = "Address already in use" in self._new_log()
                self.stop()
                if not taken or attempt == 3:
                    raise
                self._choose_ports()

    def stop(self) -> None:
        """Stop Dovecot and every process it started (its process group), and reap it; stopping twice is fine."""
        process, self._process = self._process, None
        if process is None:
            return
        # SIGTERM again and again: the master may fork a process after the first (which would keep it
        # waiting six seconds for that one), and a child may still be closing its indexes after the
        # master left. Children dead but not yet reaped by init do not count; SIGKILL after 5 seconds.
        deadline = time.monotonic() + 5
        while process.poll() is None or live_processes(process.pid):
            _signal_group(process.pid, signal.SIGTERM if time.monotonic() < deadline else signal.SIGKILL)
            time.sleep(0.02)
        self._output.close()
        if self._short_base_dir is not None:
            shutil.rmtree(self._short_base_dir, ignore_errors=True)
            self._short_base_dir = None

    @property
    def pid(self) -> int | None:
        """The Dovecot master's process id, which is also its process group's; None while stopped."""
        return self._process.pid if self._process is not None else None

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and checks it names 127.0.0.1)."""
        return ssl.create_default_context(cafile=self.certificate)

    @contextmanager
    def session(self, user: str | None = None, tls: bool = False) -> Iterator[imaplib.IMAP4]:
        """An IMAP session logged in as `user` (the default user if None), logged out afterwards."""
        user = user or self.user
        if tls:
            imap = imaplib.IMAP4_SSL(self.host, self.tls_port, ssl_context=self.ssl_context(), timeout=10)
        else:
            imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            imap.login(user, self._users[user])
            yield imap
        finally:
            try:
                imap.logout()
            except (imaplib.IMAP4.abort, OSError):
                imap.shutdown()

    def append(self, message: bytes, user: str | None = None, folder: str = "INBOX") -> int:
        """Put `message` into `folder` with IMAP APPEND (the folder is created if missing) and return its UID.

        imaplib turns bare LF line ends into CRLF, so a message meant to come back byte for byte uses CRLF.
        """
        with self.session(user) as imap:
            if folder.upper() != "INBOX":
                imap.create(_quoted(folder))  # NO [ALREADYEXISTS] when it exists: fine
            status, data = imap.append(_quoted(folder), None, None, message)
        found = re.search(rb"\[APPENDUID \d+ (\d+)\]", data[0] or b"")
        if status != "OK" or not found:
            raise RuntimeError(f"APPEND to {folder} answered {status} {data!r}")
        return int(found.group(1))

    def uidvalidity(self, user: str | None = None, folder: str = "INBOX") -> int:
        """The folder's UIDVALIDITY, as STATUS reports it."""
        with self.session(user) as imap:
            status, data = imap.status(_quoted(folder), "(UIDVALIDITY)")
        found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
        if status != "OK" or not found:
            raise RuntimeError(f"STATUS {folder} answered {status} {data!r}")
        return int(found.group(1))

    def recreate(self, user: str | None = None, folder: str = "INBOX") -> int:
        """Empty the folder and give it a new UIDVALIDITY, as deleting and creating it again does; return that.

        Any folder but INBOX is deleted and created over IMAP. Dovecot refuses to delete INBOX, so
        there the user's sessions are kicked (`doveadm kick`, as an administrator would: an open
        session gets "* BYE Server shutting down.") and the messages, UID list and indexes are removed
        from its Maildir: the next session finds an empty INBOX whose UIDs start again at 1, under a
        UIDVALIDITY from Dovecot's own counter.
        """
        user = user or self.user
        before = self.uidvalidity(user, folder)
        if folder.upper() == "INBOX":
            self._kick(user)
            self._empty_inbox_maildir(user)
        else:
            with self.session(user) as imap:
                for command in (imap.delete, imap.create):
                    status, data = command(_quoted(folder))
                    if status != "OK":
                        raise RuntimeError(f"{command.__name__.upper()} {folder} answered {status} {data!r}")
        after = self.uidvalidity(user, folder)
        if after == before:
            raise RuntimeError(f"{folder} kept UIDVALIDITY {before} through recreate")
        return after

    def _choose_ports(self) -> None:
        self.port = free_port()
        self.tls_port = free_port()
        while self.tls_port == self.port:
            self.tls_port = free_port()

    def _make_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1, by the openssl command (`cryptography` is not in the venv);
        an EC key, quick to make."""
        key = self.folder / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            + ["-keyout", str(key), "-out", str(self.certificate), "-days", "7", "-subj", "/CN=127.0.0.1"]
            + ["-addext", "subjectAltName=IP:127.0.0.1"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        key.chmod(0o600)

    def _base_dir(self) -> Path:
        base_dir = self.folder / "run"
        if len(os.fsencode(base_dir)) > BASE_DIR_LIMIT:
            self._short_base_dir = base_dir = Path(tempfile.mkdtemp(prefix="dovecot-", dir="/tmp"))
        base_dir.mkdir(exist_ok=True)
        return base_dir

    def _write_config(self, base_dir: Path) -> None:
        if self._chroot:  # "/./" splits the home: chroot to what is before it, then the home is what follows
            home, chroot = f"{self.mail}/./%u", f"valid_chroot_dirs = {self.mail}"
        else:  # only root may chroot: the services that would are told not to
            home = f"{self.mail}/%u"
            chroot = "".join(f"service {name} {{\n  chroot =\n}}\n" for name in CHROOTED_SERVICES)
        self.config.write_text(f"""\
# Written by tests/imap_server.py for one test run; see that module.
base_dir = {base_dir}
state_dir = {self.folder / "state"}
log_path = {self.log}
protocols = imap
listen = {self.host}
default_internal_user = {self._internal_user}
default_internal_group = {self._internal_group}
default_login_user = {self._login_user}
first_valid_uid = {self._mail_uid}
first_valid_gid = {self._mail_gid}
{chroot}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
ssl = yes
ssl_cert = <{self.certificate}
ssl_key = <{self.folder / "key.pem"}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.folder / "users"}/%u
}}
userdb {{
  driver = static
  args = uid={self._mail_uid} gid={self._mail_gid} home={home}
}}
# No auth penalty: without this, after two failed logins from 127.0.0.1 the next login waits 4, then 8 seconds.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.tls_port}
    ssl = yes
  }}
}}
""")

    def _launch(self) -> None:
        self._write_config(self._base_dir())
        self._log_offset = self.log.stat().st_size if self.log.exists() else 0
        self._output = open(self.folder / "log" / "output.log", "wb")  # closed by stop()
        try:
            self._process = subprocess.Popen(
                [str(DOVECOT), "-F", "-c", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, which stop() signals as a whole
            )
        except OSError:
            self._output.close()
            raise

    def _wait_for_greeting(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited with {self._process.returncode}:\n{self._log_tail()}")
            if " Fatal: " in self._new_log():  # a service that cannot start: Dovecot would only retry it
                raise RuntimeError(f"dovecot failed to start:\n{self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=2) as probe:
                    if probe.makefile("rb").readline().startswith(b"* OK"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not greet on {self.host}:{self.port} in {START_TIMEOUT}s:\n{self._log_tail()}")

    def _new_log(self) -> str:
        """What Dovecot has logged since the last start."""
        if not self.log.exists():
            return ""
        with open(self.log, "rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")

    def _log_tail(self, lines: int = 30) -> str:
        output = (self.folder / "log" / "output.log").read_text(errors="replace")
        tail = "\n".join((self._new_log() or output).splitlines()[-lines:])
        return f"--- the end of {self.log}:\n{tail}"

    def _doveadm(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(DOVEADM), "-c", str(self.config), *args], capture_output=True, text=True, timeout=30)

    def _kick(self, user: str) -> None:
        """End the user's IMAP sessions and wait until their processes have gone (so no index is written after)."""
        who = self._doveadm("who", "-1", user)
        pids = [int(line.split()[2]) for line in who.stdout.splitlines()[1:] if line.split()[:1] == [user]]
        if not pids:
            return
        kicked = self._doveadm("kick", user)
        if kicked.returncode not in (0, 68):  # 68: no session was left to kick
            raise RuntimeError(f"doveadm kick {user} failed: {kicked.stdout}{kicked.stderr}")
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in pids):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{user}'s IMAP processes {pids} outlived doveadm kick")
            time.sleep(0.02)

    def _empty_inbox_maildir(self, user: str) -> None:
        """Remove INBOX's messages, UID list and indexes (and the folder list's cache of them), keeping subfolders
        and dovecot-uidvalidity, the counter that makes the next UIDVALIDITY a new one."""
        maildir = self.mail / user / "Maildir"
        for path in maildir.iterdir():
            if path.name in ("cur", "new", "tmp"):
                for message in path.iterdir():
                    message.unlink()
            elif path.name.startswith(("dovecot-uidlist", "dovecot-keywords", "dovecot.index", "dovecot.list.index")):
                path.unlink()


def _quoted(mailbox: str) -> str:
    """A mailbox name as an IMAP quoted string (imaplib sends names as given)."""
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def live_processes(pgid: int) -> list[int]:
    """The processes of the process group that still run; not the zombies the master's exit left to init."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()  # after "pid (command)": state, ppid, pgrp, ...
        except OSError:  # gone while we looked
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            live.append(int(stat.parent.name))
    return live


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or the number is now another user's process
        return False
    return True
