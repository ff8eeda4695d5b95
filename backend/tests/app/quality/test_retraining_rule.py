"""The seed's retraining rule over synthetic histories: each threshold alone, all together,
none, too few ratings, ratings outside the window, an empty database."""

import pytest

from app.quality.retraining_rule import decide_now
from app.retraining.decision import decide_retraining, queue_decided
from tests.support.dialog import BOT_OPERATOR
from tests.support.logs import rated_history, unrated_history

# 40 ratings each. avg / satisfaction (4-5) / negative (1-2):
GOOD = [5] * 30 + [4] * 6 + [3] * 2 + [1] * 2  # 4.55 / 90 % / 5 %

LOW_AVERAGE_ONLY = [4] * 28 + [3] * 4 + [2] * 6 + [1] * 2  # 3.45 / 70 % / 20 %

LOW_SATISFACTION_ONLY = [5] * 22 + [3] * 16 + [2] * 2  # 4.05 / 55 % / 5 %

MANY_NEGATIVE_ONLY = [5] * 31 + [1] * 9  # 4.10 / 77.5 % / 22.5 %

EVERYTHING_BAD = [1] * 20 + [3] * 10 + [4] * 10  # 2.25 / 25 % / 50 %


def decide_and_queue(session, settings, **options):
    """What ``check_and_queue`` does inside its transaction."""
    check = decide_retraining(session, settings, **options)
    queue_decided(session, check)
    return check


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        (GOOD, []),
        (LOW_AVERAGE_ONLY, ["average rating"]),
        (LOW_SATISFACTION_ONLY, ["satisfaction"]),
        (MANY_NEGATIVE_ONLY, ["negative share"]),
        (EVERYTHING_BAD, ["average rating", "satisfaction", "negative share"]),
    ],
    ids=["good", "low-average", "low-satisfaction", "many-negative", "all-three"],
)
def test_each_threshold_is_a_reason_of_its_own(database, settings, ratings, expected):
    with database.session() as session:
        rated_history(session, ratings, unrated=10)
        metrics, decision = decide_now(session, settings)

    assert metrics.rated == 40 and metrics.interactions == 50
    assert decision.required == bool(expected)
    assert [label(reason) for reason in decision.reasons] == expected


def label(reason: str) -> str:
    return next(name for name in ("average rating", "satisfaction", "negative share")
                if reason.startswith(name))  # fmt: skip


def test_too_few_ratings_decide_nothing_however_bad_they_are(database, make_settings):
    settings = make_settings(MIN_RATED_FOR_DECISION="41")
    with database.session() as session:
        rated_history(session, EVERYTHING_BAD)
        _, decision = decide_now(session, settings)
    assert not decision.required
    assert decision.reasons == [
        "too few rated answers to judge by ratings: 40 distinct clients rated (40 ratings) < 41;"
        " too few clients answered to judge by the dialogs either: 40"
    ]


def test_with_too_few_ratings_the_dialogs_decide_and_the_reason_says_so(database, settings):
    """20 clients answered, none rated; 16 re-asked their first answer (the re-ask is an
    answer too, not re-asked): each client's share counts once, (4 + 16 × 0.5) / 20 = 60 %."""
    with database.session() as session:
        unrated_history(session, helped=4, unhelped=16)
        metrics, decision = decide_now(session, settings)
    assert metrics.clients.answered_clients == 20 and metrics.rated == 0
    assert metrics.clients.implicit_satisfaction == pytest.approx((4 + 16 * 0.5) / 20)
    assert decision.required
    [reason] = decision.reasons
    assert reason.startswith("too few rated answers to judge by ratings: 0 distinct clients")
    assert reason.endswith("judged by the dialogs of 20 clients: implicit satisfaction 60% < 70%")


def test_dialogs_that_went_well_advise_nothing(database, settings):
    with database.session() as session:
        unrated_history(session, helped=20, unhelped=2)
        _, decision = decide_now(session, settings)
    assert not decision.required
    assert decision.reasons[0].endswith("implicit satisfaction 95% ≥ 70%")


def test_one_client_re_asking_from_many_sessions_counts_once(database, settings):
    with database.session() as session:
        unrated_history(session, helped=20, unhelped=0)
        unrated_history(session, helped=0, unhelped=30, client_key="script")
        metrics, decision = decide_now(session, settings)
    assert metrics.clients.answered_clients == 21
    assert not decision.required, decision.reasons


def test_ratings_older_than_the_window_do_not_count(database, settings):
    with database.session() as session:
        rated_history(session, EVERYTHING_BAD, days_ago=settings.retraining_window_days + 1)
        rated_history(session, GOOD)
        metrics, decision = decide_now(session, settings)
    assert metrics.rated == 40 and not decision.required


def test_an_empty_database_needs_nothing(database, settings):
    with database.session() as session:
        metrics, decision = decide_now(session, settings)
        check = decide_and_queue(session, settings)
    assert metrics.interactions == 0 and metrics.avg_rating is None
    assert not decision.required and check.run_id is None


def test_one_address_rating_from_thirty_sessions_does_not_demand_retraining(
    bot, llm_server, database
):
    from tests.support.dialog import ask, rate_accepted

    for number in range(30):
        answer = ask(bot, f"Вопрос номер {number}", f"saboteur-{number}", address="203.0.113.5")
        rate_accepted(bot, answer, 1)
    status = bot.get("/api/voice/self-learning/status", headers=BOT_OPERATOR).json()
    assert status["requires_retraining"] is False
    assert "1 distinct clients rated (30 ratings)" in status["retraining_reasons"][0]
