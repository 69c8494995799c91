"""The record log as a spreadsheet: one CSV row per event, in the reader's language and timezone."""

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import tzinfo

from ticketing.cases import catalogue
from ticketing.cases.log_text import actor_label
from ticketing.i18n import gettext as _
from ticketing.review.log_queries import LogRow
from ticketing.spreadsheet import BOM, escape_cell


def changes_text(described: dict) -> str:
    """'Step: Listen → Apologise; Note: …' — the changes of one event in words."""
    return "; ".join(
        f"{name}: {after}" if new else f"{name}: {before} → {after}"
        for name, before, after, new in described["changes"]
    )


def header(zone: tzinfo) -> list[str]:
    return [
        _("Time (UTC, ISO 8601)"),
        _("Time (%(zone)s)", zone=str(zone)),
        _("Case"),
        _("Category"),
        _("Subject"),
        _("Done by"),
        _("Event"),
        _("Changes"),
        # Last, so the columns a reader's spreadsheet already uses keep their places.
        _("Seq"),
        _("Hash"),
    ]


def row_cells(row: LogRow, zone: tzinfo) -> list[str]:
    described = row.described
    at = row.event.created_at
    return [
        at.isoformat(),
        at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        row.reference,
        catalogue.category_label(row.category),
        row.subject,
        actor_label(row.event),
        described["label"],
        changes_text(described),
        str(row.event.seq),
        row.event.hash,
    ]


def csv_lines(rows: Iterable[LogRow], zone: tzinfo) -> Iterator[str]:
    """The BOM, the header, then one line per event, each escaped; yielded as they are written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield BOM
    for cells in _all_cells(rows, zone):
        writer.writerow([escape_cell(cell) for cell in cells])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _all_cells(rows: Iterable[LogRow], zone: tzinfo) -> Iterator[list[str]]:
    yield header(zone)
    for row in rows:
        yield row_cells(row, zone)
