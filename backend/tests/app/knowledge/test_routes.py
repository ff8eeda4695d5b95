"""Editing the knowledge base over the API: add, change, delete; answers follow at once."""

ADMIN_KEY = "operator-secret-key"
OPERATOR = {"Authorization": f"Bearer {ADMIN_KEY}"}


def test_an_added_fact_answers_an_offline_question_and_can_be_changed_and_removed(
    make_client, make_settings
):
    client = make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    seeded = client.get("/api/voice/knowledge", headers=OPERATOR).json()
    fact = {"title": "Парковка", "content": "Парковку у подъезда чистим от снега до 8:00."}

    added = client.post("/api/voice/knowledge", json=fact, headers=OPERATOR)

    assert added.status_code == 201 and added.json()["source"] == "operator"
    entry_id = added.json()["id"]
    listed = client.get("/api/voice/knowledge", headers=OPERATOR).json()
    assert len(listed) == len(seeded) + 1
    answer = client.post("/api/voice/process", json={"message": "Когда чистят парковку от снега?"})
    assert "8:00" in answer.json()["response"]

    earlier = fact | {"content": "Парковку у подъезда чистим от снега до 7:30."}
    changed = client.put(f"/api/voice/knowledge/{entry_id}", headers=OPERATOR, json=earlier)
    assert changed.status_code == 200 and "7:30" in changed.json()["content"]
    assert client.delete(f"/api/voice/knowledge/{entry_id}", headers=OPERATOR).status_code == 204
    assert len(client.get("/api/voice/knowledge", headers=OPERATOR).json()) == len(seeded)


def test_bad_edits_are_clear_4xx_and_the_key_is_required(make_client, make_settings):
    client = make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    assert (
        client.post("/api/voice/knowledge", json={"content": ""}, headers=OPERATOR).status_code
        == 422
    )
    missing = client.put("/api/voice/knowledge/999", json={"content": "x"}, headers=OPERATOR)
    assert missing.status_code == 404 and "999" in missing.json()["detail"]
    assert client.delete("/api/voice/knowledge/999", headers=OPERATOR).status_code == 404
    assert client.get("/api/voice/knowledge").status_code == 401
    table = client.get("/api/voice/knowledge?format=csv", headers=OPERATOR)
    assert table.headers["content-type"].startswith("text/csv") and "4800" in table.text


def test_changing_a_fact_into_another_existing_fact_is_a_409_and_both_stay(
    make_client, make_settings
):
    client = make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    first = client.post("/api/voice/knowledge", json={"content": "Мусор выносим утром."},
                        headers=OPERATOR).json()  # fmt: skip
    second = client.post("/api/voice/knowledge", json={"content": "Полы моем вечером."},
                         headers=OPERATOR).json()  # fmt: skip

    clash = client.put(f"/api/voice/knowledge/{second['id']}", headers=OPERATOR,
                       json={"content": "Мусор выносим утром."})  # fmt: skip

    assert clash.status_code == 409 and str(first["id"]) in clash.json()["detail"]
    contents = {e["id"]: e["content"] for e in client.get("/api/voice/knowledge",
                                                          headers=OPERATOR).json()}  # fmt: skip
    assert contents[first["id"]] == "Мусор выносим утром."
    assert contents[second["id"]] == "Полы моем вечером."


def test_a_blank_fact_or_one_with_a_control_character_is_a_clear_422(make_client, make_settings):
    client = make_client(make_settings(ADMIN_API_KEY=ADMIN_KEY))
    for content in ["   ", "Мусор\u0000", "Мусор\u001b[31m"]:
        response = client.post("/api/voice/knowledge", json={"content": content}, headers=OPERATOR)
        assert response.status_code == 422
        assert (
            "content: не может быть пустым и не может содержать управляющие символы"
            in (response.json()["detail"])
        )
