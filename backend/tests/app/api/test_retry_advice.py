"""The wait a refused question is told follows the replica's load: the least wait at rest,
longer while refusals outnumber answers (never past the most), back down once they stop."""

from itertools import pairwise

from app.api.retry_advice import RetryAdvice


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def advice(clock: Clock, uniform=lambda: 0.5) -> RetryAdvice:
    return RetryAdvice(least_ms=500, most_ms=15_000, clock=clock, uniform=uniform)


def second_of(advice: RetryAdvice, clock: Clock, answered: int, refused: int) -> list[int]:
    waits = []
    for _ in range(answered):
        advice.answered()
    for _ in range(refused):
        waits.append(advice.refused())
    clock.now += 1.0
    return waits


def test_a_replica_refusing_now_and_then_advises_the_least_wait():
    clock = Clock()
    steered = advice(clock)
    for _ in range(10):
        waits = second_of(steered, clock, answered=13, refused=2)

    assert set(waits) == {500}


def test_refusals_far_above_answers_lengthen_the_wait_up_to_the_most():
    clock = Clock()
    steered = advice(clock)
    waits = [max(second_of(steered, clock, answered=13, refused=150)) for _ in range(10)]

    assert waits[0] == 500
    assert all(later >= earlier for earlier, later in pairwise(waits))
    assert waits[2] > 2 * waits[0]
    assert waits[-1] == 15_000


def test_the_wait_settles_where_refusals_come_about_as_fast_as_answers():
    clock = Clock()
    steered = advice(clock)
    second_of(steered, clock, answered=13, refused=150)
    waits = [second_of(steered, clock, answered=13, refused=13)[0] for _ in range(5)]

    assert len(set(waits)) == 1 and 500 < waits[0] < 15_000


def test_the_wait_halves_back_to_the_least_once_nobody_is_refused():
    clock = Clock()
    steered = advice(clock)
    for _ in range(10):
        second_of(steered, clock, answered=13, refused=150)
    for _ in range(6):
        second_of(steered, clock, answered=13, refused=0)

    assert steered.refused() == 500


def test_a_quiet_pause_forgets_the_crowd():
    clock = Clock()
    steered = advice(clock)
    for _ in range(5):
        second_of(steered, clock, answered=13, refused=150)
    clock.now += 30

    assert steered.refused() == 500


def test_waits_above_the_least_are_spread_so_the_refused_do_not_return_together():
    clock = Clock()
    draws = iter([0.0, 1.0] * 100)
    steered = advice(clock, uniform=lambda: next(draws))
    for _ in range(3):
        second_of(steered, clock, answered=13, refused=20)
    low, high = steered.refused(), steered.refused()

    assert low == round(steered.wait_ms * 0.75) and high == round(steered.wait_ms * 1.25)
