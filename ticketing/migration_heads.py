"""The migrations this code ships, and a Flask-Migrate that is imported only when a migration command
runs: a web worker never needs Alembic, which costs each process about 11 MiB."""

import re
from pathlib import Path

import click
from flask import current_app, g
from flask.cli import with_appcontext

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_IDENTIFIERS = re.compile(r"^(revision|down_revision)\s*=\s*(.+)$", re.MULTILINE)
_HEADS: dict[str, set[str]] = {}


def migration_heads() -> set[str]:
    """The head revisions of the migration folder, read once per process from the version files'
    `revision` and `down_revision` lines (a head is a revision no other one revises), as Alembic's
    ScriptDirectory.get_heads() answers (tests/test_migrations.py compares the two)."""
    directory = str(current_app.extensions["migrate"].directory)
    if directory not in _HEADS:
        revisions, revised = set(), set()
        for path in sorted(Path(directory, "versions").glob("*.py")):
            for name, value in _IDENTIFIERS.findall(path.read_text(encoding="utf-8")):
                quoted = set(re.findall(r'["\']([^"\']+)["\']', value))
                (revisions if name == "revision" else revised).update(quoted)
        _HEADS[directory] = revisions - revised
    return _HEADS[directory]


class DeferredMigrate:
    """Flask-Migrate's init_app, deferred: the app's extensions hold a stand-in that builds the real
    Flask-Migrate configuration (importing Alembic) the first time a command asks it for anything."""

    def init_app(self, app, db, **options) -> None:
        app.extensions["migrate"] = _StandIn(app, db, options)
        app.cli.add_command(_migration_commands)


class _MigrationCommands(click.Group):
    """`flask db …`: Flask-Migrate's command group, its commands looked up when one is run (the
    group's own options are Flask-Migrate's: its commands read them from g)."""

    def list_commands(self, ctx):
        return _commands().list_commands(ctx)

    def get_command(self, ctx, name):
        return _commands().get_command(ctx, name)


@click.group(cls=_MigrationCommands, name="db")
@click.option("-d", "--directory", default=None, help='Migration script directory (default is "migrations")')
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts")
@with_appcontext
def _migration_commands(directory, x_arg):
    """Perform database migrations."""
    g.directory = directory
    g.x_arg = x_arg


def _commands() -> click.Group:
    from flask_migrate.cli import db as commands  # here, not at start: see the module's docstring

    return commands


class _StandIn:
    def __init__(self, app, db, options: dict):
        self.app, self.db, self.options = app, db, options
        self.directory = options.get("directory", "migrations")

    def __getattr__(self, name):
        from flask_migrate import Migrate  # here, not at start: see the module's docstring

        Migrate(self.app, self.db, **self.options)
        return getattr(self.app.extensions["migrate"], name)
