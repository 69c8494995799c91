"""The tables behind the insight charts as CSV files (UTF-8 with BOM, formula-like cells escaped)."""

import csv
import io
from collections.abc import Iterable

from flask import Response

from ticketing.spreadsheet import BOM, escape_cell


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer)
    for cells in [header, *rows]:
        writer.writerow([escape_cell(cell) for cell in cells])
    return Response(
        buffer.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
