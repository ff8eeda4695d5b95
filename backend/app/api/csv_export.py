"""Any table the pages show can be downloaded: rows of dicts as a CSV attachment."""

import csv
import io

from fastapi.responses import Response


def csv_response(rows: list[dict], filename: str) -> Response:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    # A BOM makes spreadsheet programs read the Cyrillic as UTF-8.
    return Response(
        content="\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
