"""Who is asking, as routes declare it: the operator check in front of operator endpoints."""

import pytest

from tests.support.dialog import BOT_ADMIN_KEY, BOT_OPERATOR, ask


@pytest.mark.parametrize(
    ("settings", "headers", "status", "message"),
    [
        ({}, BOT_OPERATOR, 403, "ADMIN_API_KEY"),
        ({"ADMIN_API_KEY": BOT_ADMIN_KEY}, {}, 401, "Authorization"),
        ({"ADMIN_API_KEY": BOT_ADMIN_KEY}, {"Authorization": "Bearer wrong"}, 401, "Неверный"),
    ],
)
def test_operator_endpoints_need_the_admin_key(
    make_client, make_settings, settings, headers, status, message
):
    client = make_client(make_settings(**settings))
    log_id = ask(client, "Как часто моют подъезд?")["log_id"]
    for method, path, body in [
        (
            "post",
            f"/api/voice/logs/{log_id}/correction",
            {"corrected_response": "x", "operator": "y"},
        ),
        ("get", "/api/voice/logs", None),
        ("get", "/api/voice/verified-answers", None),
    ]:
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == status
        assert message in response.json()["detail"]
