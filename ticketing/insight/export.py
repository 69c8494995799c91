"""A figure's table as a CSV file: the numbers behind the chart, for a spreadsheet."""

import csv
import io

from ticketing.insight.filters import Filters
from ticketing.insight.results import Result, plain
from ticketing.spreadsheet import BOM, escape_cell


def csv_text(result: Result) -> str:
    """The BOM (so Excel reads the Chinese right), the header, then one line per row; numbers plain,
    every cell disarmed against formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([escape_cell(str(column.label)) for column in result.columns])
    for row in result.rows:
        writer.writerow([escape_cell(plain(value, column.kind)) for value, column in zip(row, result.columns)])
    return BOM + buffer.getvalue()


def filename(key: str, filters: Filters) -> str:
    return f"insight-{key}-{filters.first_day:%Y%m%d}-{filters.last_day:%Y%m%d}.csv"
