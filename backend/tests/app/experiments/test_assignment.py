"""A conversation stays in one arm; arms get their share of conversations."""

import uuid

import pytest

from app.experiments.assignment import assign

SESSIONS = [str(uuid.UUID(int=n)) for n in range(10_000)]


def test_the_same_conversation_is_always_in_the_same_arm():
    arms = [("контроль", 0.5), ("новая", 0.5)]
    first = [assign(7, session, arms) for session in SESSIONS[:200]]
    assert first == [assign(7, session, arms) for session in SESSIONS[:200]]


@pytest.mark.parametrize("shares", [(0.5, 0.5), (0.9, 0.1), (0.6, 0.3, 0.1)])
def test_arms_get_their_share_of_ten_thousand_conversations(shares):
    arms = [(f"arm{number}", share) for number, share in enumerate(shares)]
    assigned = [assign(3, session, arms) for session in SESSIONS]
    for name, share in arms:
        # three standard deviations of a binomial share over 10,000 draws, at most 0.015
        assert assigned.count(name) / len(SESSIONS) == pytest.approx(share, abs=0.015), name


def test_an_arm_with_no_share_gets_nobody_and_the_others_keep_their_conversations():
    before = [assign(5, s, [("a", 0.8), ("b", 0.2)]) for s in SESSIONS[:2000]]
    after = [assign(5, s, [("a", 0.8), ("b", 0.0)]) for s in SESSIONS[:2000]]
    assert "b" not in after
    assert all(was == now for was, now in zip(before, after, strict=True) if was == "a")


def test_experiments_split_conversations_independently():
    arms = [("a", 0.5), ("b", 0.5)]
    one = [assign(1, s, arms) for s in SESSIONS[:4000]]
    two = [assign(2, s, arms) for s in SESSIONS[:4000]]
    agreement = sum(x == y for x, y in zip(one, two, strict=True)) / 4000
    assert agreement == pytest.approx(0.5, abs=0.05)
