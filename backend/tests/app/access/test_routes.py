"""Operator accounts: argon2-hashed passwords, logins whose tokens open the operator
endpoints like the admin key, logout, expiry, and the CLI that creates them."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from app.access.operators import create_account
from app.core.errors import InvalidInputError
from app.core.paths import BACKEND_DIR
from app.db.models import OperatorAccount, OperatorSession, VoiceLog

PASSWORD = "уборка-подъездов-2026"


@pytest.fixture
def irina(database):
    with database.transaction() as session:
        return create_account(session, "irina", PASSWORD)


def login(client, username="irina", password=PASSWORD):
    return client.post("/api/voice/auth/login", json={"username": username, "password": password})


def test_the_password_is_stored_as_an_argon2_hash(irina, database):
    with database.session() as session:
        stored = session.scalars(select(OperatorAccount.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_login_token_opens_operator_endpoints_without_any_admin_key(
    make_client, make_settings, irina
):
    client = make_client(make_settings())  # no ADMIN_API_KEY at all

    response = login(client)

    assert response.status_code == 200
    token = response.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/voice/logs", headers=headers).status_code == 200
    assert client.get("/api/voice/logs").status_code == 401

    assert client.post("/api/voice/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/voice/logs", headers=headers).status_code == 401


def test_wrong_username_and_wrong_password_get_the_same_answer(make_client, make_settings, irina):
    client = make_client(make_settings())
    wrong_password = login(client, password="не тот пароль")
    unknown_user = login(client, username="nobody")
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()
    assert "Неверное имя оператора или пароль" in wrong_password.json()["detail"]


def test_an_expired_login_is_refused(make_client, make_settings, irina, database):
    client = make_client(make_settings())
    token = login(client).json()["token"]
    with database.session() as session:
        session.execute(update(OperatorSession).values(expires_at=datetime.now(UTC) - timedelta(1)))
        session.commit()
    response = client.get("/api/voice/logs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "истёк" in response.json()["detail"]


def test_without_key_and_accounts_operator_functions_are_off(make_client, make_settings):
    response = make_client(make_settings()).get("/api/voice/logs")
    assert response.status_code == 403 and "operator add" in response.json()["detail"]


def test_weak_or_duplicate_accounts_are_refused(database, irina):
    with database.transaction() as session:
        with pytest.raises(InvalidInputError, match="не короче"):
            create_account(session, "oleg", "short")
        with pytest.raises(InvalidInputError, match="уже есть"):
            create_account(session, "irina", PASSWORD)


def test_the_cli_creates_an_account_that_can_log_in(
    database_url, tmp_path, make_client, make_settings
):
    completed = subprocess.run(
        [sys.executable, "-m", "app.cli", "operator", "add", "oleg", "--password-stdin"],
        cwd=BACKEND_DIR, input=PASSWORD + "\n", capture_output=True, text=True, timeout=120,
        env={"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert login(make_client(make_settings()), username="oleg").status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer no-such-login"}])
def test_logout_without_a_live_login_is_a_401(make_client, make_settings, irina, headers):
    client = make_client(make_settings())
    response = client.post("/api/voice/auth/logout", headers=headers)
    assert response.status_code == 401 and "токен" in response.json()["detail"]


def test_password_guessing_is_throttled_per_address_and_per_username(
    make_client, make_settings, irina
):
    client = make_client(make_settings(RATE_LIMIT_LOGIN_PER_MINUTE="5"))
    guesses = [login(client, password=f"guess-{n}").status_code for n in range(5)]

    assert guesses == [401] * 5
    throttled = login(client)  # even the right password waits now
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1


def test_a_correction_is_signed_by_the_logged_in_operator_not_by_the_body(
    make_client, make_settings, irina, database
):
    client = make_client(make_settings())
    token = login(client).json()["token"]
    answer = client.post("/api/voice/process", json={"message": "Когда моют окна?"}).json()

    response = client.post(
        f"/api/voice/logs/{answer['log_id']}/correction",
        json={"corrected_response": "Окна моем в апреле и сентябре.", "operator": "Директор"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    with database.session() as session:
        assert session.get(VoiceLog, answer["log_id"]).corrected_by == "irina"
