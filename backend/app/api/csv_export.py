"""Any table the pages show can be downloaded: rows of dicts as a CSV attachment, with
cells a spreadsheet would run as formulas neutralised."""

import csv
import io

from fastapi.responses import Response

#: A cell starting with one of these is a formula to a spreadsheet program.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """Residents' text reaches these tables: a cell that a spreadsheet would run as a
    formula (``=HYPERLINK(…)``) is prefixed with an apostrophe, so it shows as text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(rows: list[dict], filename: str) -> Response:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({key: neutralised(value) for key, value in row.items()} for row in rows)
    # A BOM makes spreadsheet programs read the Cyrillic as UTF-8.
    return Response(
        content="\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
