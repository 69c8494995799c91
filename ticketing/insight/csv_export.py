"""The tables behind the insight charts as CSV files (UTF-8 with BOM, formula-like cells escaped)."""

import csv
import io
from collections.abc import Iterable

from flask import Response

from ticketing.spreadsheet import BOM, escape_cell


def csv_document(header: list[str], rows: Iterable[Iterable]) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    for cells in [header, *rows]:
        writer.writerow([escape_cell(cell) for cell in cells])
    return buffer.getvalue()


def csv_file(filename: str, text: str) -> Response:
    return Response(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    return csv_file(filename, csv_document(header, rows))
