"""The mail poller killed at any moment loses no mail and files none twice: 300 mails in a real Dovecot
mailbox, `flask scheduler read-mail` SIGKILLed 20 times while it files them, then run to the end."""

import random
import time
from email.message import EmailMessage
from urllib.parse import quote

from sqlalchemy import create_engine, func, select

from tests.imap_server import ImapServer, require_dovecot
from tests.scheduling_processes.support import (
    log_tail,
    mail_sink,
    migrate,
    process_database,
    report,
    start_scheduler,
    stop,
    wait_until,
)
from ticketing.cases.models import Ticket
from ticketing.notify.models import InboundMail, Mailbox

MAILS, KILLS = 300, 20


def _mail(n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {n % 60} <customer{n % 60}@example.com>"  # five mails each: no flood
    message["To"] = "complaints@example.test"
    message["Subject"] = f"Complaint number {n}"
    message["Message-ID"] = f"<crash-{n}@mail.example.com>"
    message.set_content(f"Problem number {n}: the parcel never came.")
    return message.as_bytes()


def test_a_poller_killed_twenty_times_loses_and_repeats_no_mail(tmp_path, capsys):
    require_dovecot()
    rng = random.Random(19)
    with process_database(tmp_path) as url, mail_sink() as (_sink, smtp_port), ImapServer(tmp_path / "imap") as imap:
        migrate(url)
        uids = [imap.append(_mail(n)) for n in range(MAILS)]
        user, password = quote(imap.user, safe=""), quote(imap.password, safe="")
        settings = {"MAIL_INTAKE": f"imap+plain://{user}:{password}@127.0.0.1:{imap.port}/INBOX?name=complaints"}
        engine = create_engine(url)
        log = tmp_path / "poller.log"

        def filed() -> int:
            with engine.connect() as conn:
                return conn.scalar(select(func.count(InboundMail.id))) or 0

        killed_at = []
        try:
            for _kill in range(KILLS):
                before = filed()
                poller = start_scheduler(url, smtp_port, log, "scheduler", "read-mail", "--until-empty", **settings)
                assert wait_until(lambda before=before: filed() > before, timeout=30, interval=0.02), log_tail(log)
                time.sleep(rng.uniform(0, 0.2))  # then a moment into its filing, wherever that is
                stop(poller)  # SIGKILL
                killed_at.append(filed())
            assert killed_at[-1] < MAILS, "the poller finished before it was killed: kill it sooner"
            last = start_scheduler(url, smtp_port, log, "scheduler", "read-mail", "--until-empty", **settings)
            assert last.wait(timeout=240) == 0, log_tail(log)
            with engine.connect() as conn:
                rows = conn.execute(select(InboundMail.uid, InboundMail.outcome, InboundMail.ticket_id)).all()
                subjects = conn.scalars(select(Ticket.subject)).all()
                mailbox = conn.execute(select(Mailbox.last_uid, Mailbox.uidvalidity)).one()
        finally:
            engine.dispose()
        lost = MAILS - len({uid for uid, _outcome, _ticket in rows})
        repeated = len(rows) - len({uid for uid, _outcome, _ticket in rows}) + len(subjects) - len(set(subjects))
        report(
            capsys,
            f"{MAILS} mails, poller killed {KILLS} times (after {killed_at} filed): {lost} lost, {repeated} repeated",
        )
        assert (lost, repeated) == (0, 0)
        assert sorted(uid for uid, _outcome, _ticket in rows) == uids
        assert {outcome for _uid, outcome, _ticket in rows} == {"complaint"} and len(subjects) == MAILS
        assert mailbox.last_uid == uids[-1] and mailbox.uidvalidity == imap.uidvalidity()
        assert len(set(killed_at)) > 5, killed_at  # it was killed at many different points
