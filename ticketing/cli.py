"""flask commands: create-user, create-token, demo-data, serve, scheduler run / dispatch, audit verify,
search rebuild, backup create / restore."""

import re
import tarfile
import time

import click
from flask import Flask, current_app
from sqlalchemy import select, text
from werkzeug.serving import run_simple

from ticketing import backup
from ticketing.auth import security_log
from ticketing.auth.models import User
from ticketing.auth.services import AccountError, change_password, create_user, find_user_by_email
from ticketing.auth.tokens import TokenError, create_token
from ticketing.cases import anchors, checkpoints
from ticketing.cases.attachments import altered_files
from ticketing.cases.chain import app_role_grants
from ticketing.cases.models import Ticket
from ticketing.cases.search import documents
from ticketing.cases.vocabulary import Role
from ticketing.clock import utcnow
from ticketing.demo import (
    active_demo_accounts,
    demo_logins,
    load_demo_data,
    new_demo_passwords,
    other_users_exist,
)
from ticketing.extensions import db
from ticketing.notify import intake
from ticketing.scheduling.dispatcher import dispatch_due
from ticketing.scheduling.runner import build_scheduler


def register(app: Flask) -> None:
    app.cli.add_command(create_user_command)
    app.cli.add_command(create_token_command)
    app.cli.add_command(demo_data_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(scheduler_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(search_group)
    app.cli.add_command(backup_group)
    app.cli.add_command(insight_group)


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None, help="Display name (defaults to the part of the email before @).")
@click.option("--locale", default="en", type=click.Choice(["en", "zh_CN"]))
def create_user_command(email, password, role, name, locale):
    """Create a staff account (the first admin, or any user from a script)."""
    try:
        user = create_user(email=email, password=password, role=role, name=name, locale=locale)
    except AccountError as error:
        raise click.ClickException(str(error.reason)) from error
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}")


@click.command("create-token")
@click.option("--email", required=True, help="The active staff user the token acts as.")
@click.option("--name", default="Command line", show_default=True, help="What the token is for (1-80 characters).")
@click.option("--read-only", is_flag=True, help="The token may only read (GET), never change anything.")
def create_token_command(email, name, read_only):
    """Create a personal API token; the token itself is printed once, as the last line."""
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No user with the email {email}; nothing created.")
    if not user.active:
        raise click.ClickException(f"The account {user.email} is disabled; nothing created.")
    try:
        row, secret = create_token(user, name, read_only)
    except TokenError as error:
        raise click.ClickException(f"{error.reason} Nothing created.") from error
    db.session.commit()
    access = "read-only" if row.read_only else "read-write"
    click.echo(f'Created {access} token "{row.name}" for {user.email}. Store it now; it is not shown again:')
    click.echo(secret)


@click.command("demo-data")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@click.option("--new-passwords", is_flag=True, help="Give the demo logins new passwords, printed once; load nothing.")
def demo_data_command(if_empty, new_passwords):
    """Load demo staff, customers and complaints in English and Chinese, in every step and state
    (development only). Each demo login gets a password made for this installation, printed once."""

    _refuse_outside_development("demo-data")
    passwords = new_demo_passwords()
    if new_passwords:
        users = [find_user_by_email(email) for email in passwords]
        if None in users:
            raise click.ClickException("There is no demo data here to give new passwords to.")
        for user in users:
            change_password(user, passwords[user.email])
        db.session.commit()
        _print_demo_logins(passwords)
        return
    if if_empty and db.session.scalars(select(User).limit(1)).first() is not None:
        click.echo("The database already has data; demo data not loaded again.")
        return
    if other_users_exist():
        raise click.ClickException("This database has accounts of its own: demo data is only loaded into a new one.")
    try:
        count = load_demo_data(passwords)
    except AccountError as error:
        raise click.ClickException(f"{error.reason} Demo data needs an empty database.") from error
    db.session.commit()
    click.echo(f"Loaded {count} demo cases.")
    _print_demo_logins(passwords)


def _refuse_outside_development(command: str) -> None:
    if current_app.config["APP_ENV"] != "development":
        raise click.ClickException(
            f"flask {command} is for development (APP_ENV=development, as make run sets it): it would "
            "serve the demo, not a production installation. In production run gunicorn -c gunicorn.conf.py "
            "wsgi:app and flask scheduler run (see the README's Production settings)."
        )


def _print_demo_logins(passwords: dict[str, str]):

    click.echo("Demo logins (email / password), made for this installation and shown only now:")
    for email, password, role in demo_logins(passwords):
        click.echo(f"  {role:<10} {email}  /  {password}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.pass_context
def serve_command(ctx, host, port):
    """Run the embedded demo on one machine (single process, scheduler inside, no reloader), for `make run`."""

    _refuse_outside_development("serve")
    click.echo("\nThe embedded demo: one development process with the scheduler inside, not for production.")
    if active_demo_accounts():
        click.echo(
            "Demo logins: the passwords printed when the demo data was loaded (only their hashes are kept; "
            "new ones: APP_ENV=development .venv/bin/flask --app wsgi demo-data --new-passwords)."
        )
    click.echo(f"\nOpen http://{host}:{port}/ — press Ctrl+C to stop.")
    app = current_app._get_current_object()
    scheduler = build_scheduler(app, blocking=False)  # one process: the scheduler runs beside the server
    scheduler.start()
    click.echo(f"Scheduler started: reminders are dispatched every {app.config['DISPATCH_INTERVAL_SECONDS']} s.")
    try:
        run_simple(host, port, app, use_reloader=False, threaded=True)
    finally:
        scheduler.shutdown(wait=False)


@click.group("scheduler")
def scheduler_group():
    """The reminder scheduler (run it as its own process in production)."""


@scheduler_group.command("run")
def scheduler_run():
    """Run the scheduler until stopped. Several may run against one PostgreSQL database."""

    app = current_app._get_current_object()
    click.echo(f"Scheduler running (dispatch every {app.config['DISPATCH_INTERVAL_SECONDS']} s). Ctrl+C stops it.")
    try:
        build_scheduler(app, blocking=True).start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")


@scheduler_group.command("dispatch")
def scheduler_dispatch():
    """One dispatch pass now (for scripts and cron), then exit."""

    click.echo(dispatch_due().summary())


@scheduler_group.command("read-mail")
@click.option("--until-empty", is_flag=True, help="Read again until no new mail is left.")
def scheduler_read_mail(until_empty):
    """One pass over the intake mailboxes (MAIL_INTAKE) now, as the scheduler's mail_intake job does."""

    if not intake.mailboxes():
        raise click.ClickException("No intake mailbox is set: MAIL_INTAKE names them.")
    while True:
        polled = intake.poll_all()
        click.echo(polled.summary())
        if polled.errors:
            raise click.ClickException("Some mailboxes could not be read.")
        if not until_empty or not polled.read:
            return


@click.group("audit")
def audit_group():
    """The record log and the security log: verify them, anchor their heads."""


@audit_group.command("verify")
@click.option(
    "--since-last",
    is_flag=True,
    help="The daily check: only what came after the last intact check (every case with an event, a record or "
    "its own row since, whole) and that the log still ends where that check saw it end. Without a checkpoint "
    "yet, the full check runs. Changes in place to older, untouched cases are the full check's (and anchors').",
)
@click.option(
    "--anchors",
    "anchor_files",
    multiple=True,
    type=click.Path(exists=True),
    help="An anchor file (flask audit anchor, or the daily one) or a folder of them: the history they anchor "
    "must still be there, and a folder's anchors must follow one another. May be given more than once.",
)
@click.option("--files", is_flag=True, help="Also check every stored attachment against the SHA-256 sealed for it.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes that read the whole log side by side (each a share of the cases): up to one per core.",
)
def audit_verify(since_last, anchor_files, files, jobs):
    """Check every case's chain and records, and the security log; name the first event or record
    that was altered, removed or forged. Exits non-zero when anything is wrong. An intact check
    records a checkpoint, where the next `--since-last` starts."""

    problems = []
    started = time.perf_counter()
    outcome = checkpoints.verify_log(utcnow(), since_last=since_last, jobs=jobs)
    db.session.commit()
    seconds = time.perf_counter() - started
    broken, checked = outcome.broken, outcome.checked
    if broken is not None:
        problems.append(f"Record log broken{_where(broken)}: {broken.problem}. {checked} events before it verified.")
    elif outcome.since is not None:
        click.echo(
            f"Record log intact since the check of {outcome.since.verified_at:%Y-%m-%d %H:%M} UTC: "
            f"{outcome.cases} cases changed since then checked whole, {checked} events, with every record they sealed."
        )
    else:
        click.echo(f"Record log intact: {checked} events verified, with every record they sealed.")
    click.echo(f"  {checked:,} events in {seconds:.2f} s ({checked / max(seconds, 1e-6):,.0f} events/s).")
    entries, security_break = security_log.verify()
    if security_break is not None:
        problems.append(f"Security log broken: {security_break}. {entries} entries before it verified.")
    else:
        click.echo(f"Security log intact: {entries} entries verified.")
    for path in anchor_files:
        try:
            found = anchors.check_path(path)
        except ValueError as error:
            problems.append(str(error))
            continue
        problems += [f"Against {path}: {problem}" for problem in found]
        if not found:
            click.echo(f"Everything anchored in {path} is still there.")
    if files:
        altered = [f"{_reference(row.ticket_id)}: {row.original_name} {why}" for row, why in altered_files()]
        problems += altered
        if not altered:
            click.echo("Every stored attachment matches its sealed SHA-256.")
    if problems:
        raise click.ClickException("\n".join(problems))


def _where(broken) -> str:
    if broken.ticket_id is None:
        return ""
    reference = _reference(broken.ticket_id)
    if broken.event_id:
        return f" at event {broken.event_id} ({reference}, event #{broken.seq} of that case)"
    return f" at {reference}"


def _reference(ticket_id: int) -> str:
    ticket = db.session.get(Ticket, ticket_id)
    return ticket.reference if ticket else f"ticket id {ticket_id}"


@audit_group.command("grant-app-role")
@click.argument("role")
def audit_grant_app_role(role):
    """On PostgreSQL, as the role that owns the tables (the one `flask db upgrade` runs as): give ROLE
    — the one the web and scheduler processes log in as — what the application needs and no more.
    Run it again after every upgrade (new tables)."""

    if db.engine.dialect.name != "postgresql":
        raise click.ClickException("Roles are PostgreSQL's: SQLite has no users to grant anything to.")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise click.ClickException("A role name is lower-case letters, digits and _, starting with a letter.")
    database = db.engine.url.database
    for statement in app_role_grants(role, database, append_only=["events", security_log.SecurityEntry.__tablename__]):
        db.session.execute(text(statement))
    db.session.commit()
    click.echo(f"{role} may now use {database}: it owns nothing, and may only add to the record and security logs.")


@audit_group.command("anchor")
@click.option("--out", "folder", default=None, help="The folder to write it to (default: AUDIT_ANCHOR_DIR).")
def audit_anchor(folder):
    """Write an anchor of the cases' chain heads and the security log's now (the scheduler writes
    one every day): the heads changed since the folder's newest anchor, linked to it, or every head
    in an empty folder. Keep them, or send them, where the database's users cannot change them."""

    folder = folder or current_app.config["AUDIT_ANCHOR_DIR"]
    anchor = anchors.take(utcnow(), previous=anchors.newest(folder))
    path = anchors.write(anchor, folder)
    changed = " (the heads changed since the previous anchor)" if anchor["previous"] else ""
    click.echo(f"Anchored {len(anchor['cases'])} cases{changed} and {anchor['events']} events in {path}")


@click.group("search")
def search_group():
    """The search index."""


@search_group.command("rebuild")
def search_rebuild():
    """Write every case's and customer's search document again, in one transaction (after a restore
    or a bulk import that bypassed the application). Searches keep answering from the old index
    until it commits."""

    def progress(done, total):
        if done % 50_000 < documents.BATCH or done == total:
            click.echo(f"  {done:,} of {total:,} cases", err=True)

    cases, customers = documents.rebuild(db.session.connection(), progress=progress)
    db.session.commit()
    click.echo(f"Search index rebuilt: {cases} cases, {customers} customers.")


@click.group("backup")
def backup_group():
    """The database, the uploads and the record log's anchors in one archive (never the audit keys)."""


@backup_group.command("create")
@click.option("--out", default=None, help="A folder (default: instance/backups) or the archive's file name.")
def backup_create(out):
    """Write a backup while the desk runs (SQLite's online backup or pg_dump, plus the uploads and the anchors)."""

    try:
        path, manifest = backup.create(out or f"{current_app.instance_path}/backups", utcnow())
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    files = manifest["files"]
    click.echo(
        f"Backed up the {manifest['engine']} database (migration {manifest['migration']}), "
        f"{files['uploads']} uploaded file(s) and {files['anchors']} anchor(s) to {path}"
    )
    click.echo(backup.KEYS_NOTE)


@backup_group.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database and folders that are not empty (it says what).")
@click.pass_context
def backup_restore(ctx, archive, force):
    """Restore a backup into the configured database, UPLOAD_DIR and AUDIT_ANCHOR_DIR, then run audit verify
    (with the attachments, against the newest anchor restored). Stop the web and scheduler processes first."""

    try:
        manifest, replaced = backup.restore(archive, force)
    except (backup.BackupError, tarfile.TarError) as error:
        raise click.ClickException(f"Nothing restored: {error}") from error
    for what in replaced:
        click.echo(f"Replaced {what}.")
    click.echo(f"Restored the backup made at {manifest['made_at']} ({manifest['engine']}).")
    click.echo(backup.KEYS_NOTE)
    if note := backup.migration_note(manifest):
        click.echo(note)
    newest = backup.newest_anchor()
    click.echo("audit verify" + (f" --anchors {newest}" if newest else "") + " --files:")
    ctx.invoke(audit_verify, anchor_files=(str(newest),) if newest else (), files=True)


@click.group("insight")
def insight_group():
    """The Insight dashboard's per-case facts (ticketing/cases/facts.py)."""


@insight_group.command("rebuild")
def insight_rebuild():
    """Write every case's facts again from the cases and their records, in batches (never needed in
    normal running: every change to a case marks its facts, and the dashboard catches them up)."""
    from ticketing.cases import facts

    written = facts.rebuild(progress=lambda done: click.echo(f"{done} cases written", err=True))
    db.session.commit()
    click.echo(f"Wrote the facts of {written} cases.")


@insight_group.command("catch-up")
def insight_catch_up():
    """Write the facts of every case changed since they were last written (what the dashboard does
    for up to 500 cases before it reads)."""
    from ticketing.cases import facts

    written = facts.catch_up(limit=None)
    db.session.commit()
    click.echo(f"Wrote the facts of {written} changed cases.")
