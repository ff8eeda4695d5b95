"""Feedback tokens: one secret per database, shared by every process, or configured."""

from tests.support.dialog import ask
from tests.support.feedback import rate


def test_the_token_secret_is_shared_through_the_database_and_can_be_configured(
    make_client, make_settings
):
    first = make_client(make_settings())
    answer = ask(first, "Как часто моют подъезд?")
    replica = make_client(make_settings())  # another process on the same database
    assert rate(replica, answer, 5).status_code == 200
    configured = make_client(make_settings(FEEDBACK_TOKEN_SECRET="a-shared-secret-value"))
    assert rate(configured, answer, 4).status_code == 403
    assert rate(configured, ask(configured, "Сколько стоит уборка?"), 4).status_code == 200
