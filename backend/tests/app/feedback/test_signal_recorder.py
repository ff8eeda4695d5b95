"""Signals recorded from a real conversation through the API: the next message of the same
conversation speaks about the answer before it; another client's message into a known
session id speaks about nothing; the operator reads them with the dialogs."""

from tests.support.dialog import OPERATOR_HEADERS, as_operator, ask, rate_accepted, resident_address


def signals_of(client, log_id: int) -> list[dict]:
    response = client.get(f"/api/voice/logs/{log_id}/signals", headers=OPERATOR_HEADERS)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_re_ask_then_thanks_are_recorded_about_the_answers_they_follow(client):
    first = ask(client, "Когда у вас моют окна в подъезде?", "kv-7")
    again = ask(client, "Окна в подъезде когда моете?", "kv-7")
    ask(client, "Спасибо, понятно", "kv-7")

    [re_ask] = signals_of(client, first["log_id"])
    [thanks] = signals_of(client, again["log_id"])
    assert re_ask["kind"] == "re_ask" and re_ask["next_log_id"] == again["log_id"]
    assert re_ask["evidence"]["similarity"] >= 0.86
    assert thanks["kind"] == "thanks" and thanks["evidence"] == {"phrase": "спасибо понятно"}


def test_a_request_for_a_person_is_an_escalation_of_the_answer_before(client):
    answer = ask(client, "Сколько стоит уборка подъезда?", "kv-8")
    ask(client, "Бот не понимает, дайте менеджера", "kv-8")
    [signal] = signals_of(client, answer["log_id"])
    assert signal["kind"] == "escalation"
    assert signal["evidence"] == {"phrase": "дайте менеджера"}


def test_the_first_message_and_another_topic_say_nothing(client):
    answer = ask(client, "Сколько стоит уборка подъезда?", "kv-9")
    ask(client, "Когда вывозят мусор?", "kv-9")
    assert signals_of(client, answer["log_id"]) == []


def test_someone_else_writing_into_a_known_session_id_marks_nothing(client):
    """Another client sending "kv-10" is not in that resident's conversation: its "thanks"
    and its re-ask do not touch the resident's answer."""
    answer = ask(client, "Когда у вас моют окна в подъезде?", "kv-10")
    stranger = "10.250.250.250"
    assert stranger != resident_address("kv-10")
    ask(client, "Окна в подъезде когда моете?", "kv-10", address=stranger)
    ask(client, "Спасибо, понятно", "kv-10", address=stranger)
    assert signals_of(client, answer["log_id"]) == []


def test_the_dialog_list_shows_each_answers_signals_and_unknown_logs_are_404(client):
    answer = ask(client, "Сколько стоит уборка подъезда?", "kv-11")
    ask(client, "Соедините с оператором", "kv-11")
    page = client.get("/api/voice/logs", params={"session_id": "kv-11"},
                      headers=OPERATOR_HEADERS).json()  # fmt: skip
    by_id = {item["log_id"]: item for item in page["items"]}
    assert by_id[answer["log_id"]]["signals"] == ["escalation"]
    csv = client.get("/api/voice/logs", params={"session_id": "kv-11", "format": "csv"},
                     headers=OPERATOR_HEADERS).text  # fmt: skip
    assert "escalation" in csv
    missing = client.get("/api/voice/logs/999999/signals", headers=OPERATOR_HEADERS)
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]
    assert client.get(f"/api/voice/logs/{answer['log_id']}/signals").status_code == 401


def test_the_review_queue_holds_re_asked_and_escalated_answers_unhappiest_first(client):
    """Rated low, or unrated but re-asked or escalated; a correction takes a dialog out.
    Order: a 1★, a request for a person, a re-ask, a 2★."""
    re_asked = ask(client, "Когда у вас моют окна в подъезде?", "q-1")
    ask(client, "Окна в подъезде когда моете?", "q-1")
    escalated = ask(client, "Сколько стоит уборка подъезда?", "q-2")
    ask(client, "Соедините с оператором", "q-2")
    thanked = ask(client, "Когда вывозят мусор?", "q-3")
    ask(client, "Спасибо, понятно", "q-3")
    two_stars = ask(client, "Где оставить отзыв?", "q-4")
    rate_accepted(client, two_stars, 2)
    one_star = ask(client, "Как часто моют полы?", "q-5")
    rate_accepted(client, one_star, 1)

    review = {"needs_review": "true", "uncorrected": "true", "order": "dissatisfaction"}
    queue = as_operator(client, "GET", "/api/voice/logs", params=review).json()
    order = [item["log_id"] for item in queue["items"]]
    expected = [one_star, escalated, re_asked, two_stars]
    assert order[:4] == [a["log_id"] for a in expected]
    assert thanked["log_id"] not in order
    stars_only = as_operator(client, "GET", "/api/voice/logs",
                             params={"rating_lte": 2, "uncorrected": "true"}).json()  # fmt: skip
    assert stars_only["total"] == 2, "the seed's queue (stars only) is unchanged"
    bad = as_operator(client, "GET", "/api/voice/logs", params={"order": "loudest"})
    assert bad.status_code == 422 and "order" in bad.text
