"""The operators' queue of answers residents taught the bot, in a real browser: residents
from two addresses (behind the trusted proxy) make an answer served; the operator sees it
in the console and approves it; an answer with an unpublished card number waits there."""

import httpx

from tests.e2e.web.conftest import wait_for_expression

ADMIN_KEY = "operator-secret-key"


def resident_rates(url: str, address: str, question: str, rating: int = 5) -> None:
    headers = {"X-Forwarded-For": address}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        answer = client.post("/api/voice/process", json={"message": question}).json()
        client.post(
            "/api/voice/feedback",
            json={"log_id": answer["log_id"], "rating": rating,
                  "feedback_token": answer["feedback_token"]},
        ).raise_for_status()  # fmt: skip


def test_operators_see_and_approve_what_residents_taught(serve, page, make_settings, llm_server):
    settings = make_settings(
        ADMIN_API_KEY=ADMIN_KEY,
        FORWARDED_ALLOW_IPS="127.0.0.1",
        EMERGENT_LLM_KEY="k",
        LLM_BASE_URL=llm_server.base_url,
    )
    server = serve(settings)
    llm_server.behaviour.reply = "Окна в подъездах моем 2 раза в год, в апреле и в сентябре."
    for address in ("10.0.0.1", "10.0.0.2"):
        resident_rates(server.url, address, "Когда моют окна в подъезде?")
    llm_server.behaviour.reply = "Оплата теперь на карту 4276 1600 1234 5678."
    for address in ("10.0.0.3", "10.0.0.4"):
        resident_rates(server.url, address, "Как оплатить уборку подъезда?")

    page.goto(server.url + "/operator")
    page.fill("#key", ADMIN_KEY)
    page.click("#login button")
    wait_for_expression(page, "document.querySelectorAll('.learned-answer').length === 2")
    text = page.inner_text("#learned")
    assert "выдаётся из кэша" in text and "ждёт проверки" in text
    held = page.locator(".learned-answer", has_text="4276")
    held.locator(".approve").click()
    wait_for_expression(page, "document.querySelectorAll('.learned-answer').length === 1")
    assert "4276" not in page.inner_text("#learned")
