"""The attacks of issue 13 as specifications: one person with a script cannot make other
residents be served, or prompted with, their text."""

from sqlalchemy import select

from app.db.models import Alert, VerifiedAnswer
from tests.support.dialog import BOT_OPERATOR, ask, correct, rate_accepted

ATTACKER = "203.0.113.66"
SMOKING = "Можно ли курить в подъезде?"
WRONG = "Влажную уборку проводим по вторникам и пятницам."
PHISHING = "Оплата уборки теперь на карту 4276 1600 1234 5678 (получатель Иван П.)."


def test_one_address_with_many_session_ids_cannot_make_an_answer_served(bot, llm_server):
    llm_server.behaviour.reply = WRONG
    for number in range(6):
        answer = ask(bot, SMOKING, f"attacker-{number}", address=ATTACKER)
        assert answer["answer_source"] == "llm"
        rate_accepted(bot, answer, 5)

    llm_server.behaviour.reply = "Курить в подъезде запрещено законом."
    for victim in ("victim-1", "victim-2"):
        for question in (SMOKING, "Разрешено ли курить на лестнице?"):
            reply = ask(bot, question, victim)
            assert reply["answer_source"] == "llm" and reply["response"] != WRONG


def test_rotating_forwarded_headers_from_an_untrusted_peer_is_one_client(
    make_llm_client, llm_server
):
    bot = make_llm_client(FORWARDED_ALLOW_IPS="")  # the shipped default: trust no proxy
    llm_server.behaviour.reply = WRONG
    for number in range(4):
        spoofed = f"192.0.2.{number + 1}"
        rate_accepted(bot, ask(bot, SMOKING, f"s-{number}", address=spoofed), 5)
    assert ask(bot, SMOKING, "victim")["answer_source"] == "llm"


def test_a_trusted_proxy_lets_distinct_residents_teach_the_bot(bot, llm_server):
    llm_server.behaviour.reply = WRONG
    rate_accepted(bot, ask(bot, SMOKING, "kv-1", address="10.1.1.1"), 5)
    rate_accepted(bot, ask(bot, SMOKING, "kv-2", address="10.2.2.2"), 5)
    assert ask(bot, SMOKING, "kv-3", address="10.3.3.3")["answer_source"] == "cache"


def test_an_ipv6_client_rotating_within_its_prefix_is_one_client(bot, llm_server):
    llm_server.behaviour.reply = WRONG
    for number in range(4):
        rate_accepted(
            bot, ask(bot, SMOKING, f"v6-{number}", address=f"2001:db8:1:2::{number + 1}"), 5
        )
    assert ask(bot, SMOKING, "victim")["answer_source"] == "llm"


def test_an_answer_with_an_unpublished_card_number_waits_for_an_operator(bot, llm_server, database):
    llm_server.behaviour.reply = PHISHING
    for resident in ("a", "b", "c"):
        rate_accepted(bot, ask(bot, "Как оплатить уборку подъезда?", resident), 5)

    llm_server.behaviour.reply = "Оплата — по счёту управляющей компании."
    victim = ask(bot, "Как оплатить уборку подъезда?", "victim")
    assert victim["answer_source"] == "llm" and "4276" not in victim["response"]
    prompt = llm_server.chat_requests()[-1]["messages"]
    assert not any("4276" in m["content"] for m in prompt), "nor is it a prompt example"

    queue = bot.get("/api/voice/verified-answers?awaiting_review=true", headers=BOT_OPERATOR)
    [held] = queue.json()
    assert held["status"] == "held" and "number:4276160012345678" in held["status_reason"]
    with database.session() as session:
        kinds = session.scalars(select(Alert.kind)).all()
    assert "answer_held" in kinds

    approved = bot.post(f"/api/voice/verified-answers/{held['id']}/approve", headers=BOT_OPERATOR)
    assert approved.status_code == 200
    assert ask(bot, "Как оплатить уборку подъезда?", "later")["answer_source"] == "cache"


def test_published_contacts_and_ordinary_facts_stay_learnable_from_residents(bot, llm_server):
    llm_server.behaviour.reply = "Диспетчерская: 8-800-555-01-23, ежедневно с 8:00 до 20:00."
    for resident in ("a", "b"):
        rate_accepted(bot, ask(bot, "Как позвонить диспетчеру?", resident), 5)
    assert ask(bot, "Как позвонить диспетчеру?", "c")["answer_source"] == "cache"


def test_operators_hear_of_every_answer_residents_made_served(bot, llm_server, database):
    llm_server.behaviour.reply = "Окна моем 2 раза в год, в апреле и в сентябре."
    for resident in ("a", "b"):
        rate_accepted(bot, ask(bot, "Когда моют окна в подъезде?", resident), 5)

    queue = bot.get("/api/voice/verified-answers?awaiting_review=true", headers=BOT_OPERATOR)
    [served] = queue.json()
    assert served["status"] == "served" and served["approving_clients"] == 2
    with database.session() as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "answer_verified")).one()
    assert alert.details["verified_answer_id"] == served["id"]

    bot.post(f"/api/voice/verified-answers/{served['id']}/approve", headers=BOT_OPERATOR)
    after = bot.get("/api/voice/verified-answers?awaiting_review=true", headers=BOT_OPERATOR)
    assert after.json() == [], "an approved answer leaves the queue"


def test_a_victims_refusal_cancels_an_attackers_approval_everywhere(bot, llm_server):
    llm_server.behaviour.reply = WRONG
    rate_accepted(bot, ask(bot, SMOKING, "accomplice-1", address="10.9.0.1"), 5)
    rate_accepted(bot, ask(bot, SMOKING, "accomplice-2", address="10.9.0.2"), 5)
    victim = ask(bot, SMOKING, "victim-1")
    assert victim["answer_source"] == "cache"
    rate_accepted(bot, victim, 1)

    llm_server.behaviour.reply = "Курить в подъезде запрещено."
    other = ask(bot, "Разрешено ли курить на лестнице?", "victim-2")
    assert other["answer_source"] == "llm"
    prompt = llm_server.chat_requests()[-1]["messages"]
    assert not any(WRONG in m["content"] for m in prompt), "no longer an example either"


def test_an_operators_correction_reaches_the_prompt_and_the_cache_at_once(bot, llm_server):
    first = ask(bot, SMOKING, "kv-1")
    correct(bot, first["log_id"], "Курить в подъезде запрещено законом (ст. 6.24 КоАП).")
    assert ask(bot, SMOKING, "kv-2")["answer_source"] == "cache"


def test_rating_a_log_twice_from_its_conversation_counts_one_client(bot, llm_server, database):
    llm_server.behaviour.reply = WRONG
    answer = ask(bot, SMOKING, "kv-1")
    rate_accepted(bot, answer, 5)
    rate_accepted(bot, answer, 5)
    with database.session() as session:
        assert session.scalars(select(VerifiedAnswer.served_since)).one() is None
