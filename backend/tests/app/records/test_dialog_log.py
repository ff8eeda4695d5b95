"""Looking a log up by the id a client sent: integers as in the seed; any other form names
no log and is the same 404 as an unknown one."""

import pytest

from app.core.errors import LogNotFoundError
from app.db.models import MAX_ROW_ID
from app.records.dialog_log import get_log, parse_log_id
from tests.support.logs import add_log


@pytest.mark.parametrize(("given", "expected"), [(42, 42), ("42", 42), (" 7 ", 7)])
def test_integers_and_their_digits_name_a_log(given, expected):
    assert parse_log_id(given) == expected


@pytest.mark.parametrize(
    "given",
    [0, -1, MAX_ROW_ID + 1, "0", "-1", "4.2", "abc", "", True,
     "0b8f7c1e-5d1a-4c0e-9a57-2f1d3c4b5a69", "9" * 25],
)  # fmt: skip
def test_anything_else_is_not_found(given):
    with pytest.raises(LogNotFoundError):
        parse_log_id(given)


def test_get_log_finds_a_stored_log_and_404s_an_unknown_one(database):
    with database.transaction() as session:
        stored = add_log(session, "Когда уборка?", "По вторникам.")
    with database.session() as session:
        assert get_log(session, str(stored.id)).user_message == "Когда уборка?"
        with pytest.raises(LogNotFoundError):
            get_log(session, stored.id + 1)
