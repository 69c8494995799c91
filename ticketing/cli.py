"""flask commands: create-user, create-token, demo-data, serve, scheduler run / dispatch, audit verify,
search rebuild."""

import click
from flask import Flask, current_app
from sqlalchemy import select
from werkzeug.serving import run_simple

from ticketing.auth.models import User
from ticketing.auth.services import AccountError, create_user, find_user_by_email
from ticketing.auth.tokens import TokenError, create_token
from ticketing.cases.audit import Event
from ticketing.cases.chain import verify
from ticketing.cases.models import Ticket
from ticketing.cases.search import documents
from ticketing.cases.vocabulary import Role
from ticketing.demo import DEMO_LOGINS, load_demo_data
from ticketing.extensions import db
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
def demo_data_command(if_empty):
    """Load demo staff, customers and complaints in English and Chinese, in every step and state."""

    if if_empty and db.session.scalars(select(User).limit(1)).first() is not None:
        click.echo("The database already has data; demo data not loaded again.")
        return
    try:
        count = load_demo_data()
    except AccountError as error:
        raise click.ClickException(f"{error.reason} Demo data needs an empty database.") from error
    db.session.commit()
    click.echo(f"Loaded {count} demo cases.")
    _print_demo_logins()


def _print_demo_logins():

    click.echo("Demo logins (email / password):")
    for email, password, role in DEMO_LOGINS:
        click.echo(f"  {role:<10} {email}  /  {password}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.pass_context
def serve_command(ctx, host, port):
    """Run the app on one machine (single process, no reloader), for `make run`."""

    if find_user_by_email(DEMO_LOGINS[0][0]) is not None:
        _print_demo_logins()
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


@click.group("audit")
def audit_group():
    """The record log."""


@audit_group.command("verify")
def audit_verify():
    """Check every case's hash chain; name the first event that was altered, removed or forged."""

    checked, broken = verify(Event)
    if broken is None:
        click.echo(f"Record log intact: {checked} events verified.")
        return
    ticket = db.session.get(Ticket, broken.ticket_id)
    reference = ticket.reference if ticket else f"ticket id {broken.ticket_id}"
    raise click.ClickException(
        f"Record log broken at event {broken.event_id} ({reference}, "
        f"event #{broken.seq} of that case): {broken.problem}. "
        f"{checked} events before it verified."
    )


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
