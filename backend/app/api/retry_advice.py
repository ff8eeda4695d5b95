"""How long a refused question is told to wait, from what the replica managed lately.

A fixed wait brings every refused resident back at the same moment and again and again: at
200 residents on 2 cores (about 13 answers a second) a 500 ms wait meant 93 % of attempts
were refused, and answering those refusals took the cores that answering questions needed
(answered questions' p99 4.3 s; with a 2 s wait, 2.6 s).

So the wait is steered. Once a second it is multiplied by the square root of refusals over
answers in that second, between the least and the most wait: it settles where the refused
residents come back about as fast as the replica answers, and halves back toward the least
once nobody is refused. Every refused question gets the same advice, whoever sends it: an
address or a session is a claim, so nobody can buy a shorter wait.
"""

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: Advice above the least wait is spread by ±25 %, so residents refused in the same second
#: do not all come back in the same second.
JITTER = 0.25


@dataclass
class RetryAdvice:
    least_ms: int
    most_ms: int
    window_seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    uniform: Callable[[], float] = random.random
    #: The advice now, before jitter; changed only on the event loop, so no lock.
    wait_ms: float = field(init=False)
    _window_start: float = field(init=False)
    _answered: int = field(init=False, default=0)
    _refused: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.wait_ms = float(self.least_ms)
        self._window_start = self.clock()

    def answered(self) -> None:
        """A question admitted earlier has been answered."""
        self._roll()
        self._answered += 1

    def refused(self) -> int:
        """A question was refused: how many milliseconds it should wait."""
        self._roll()
        self._refused += 1
        if self.wait_ms <= self.least_ms:
            return self.least_ms
        spread = 1 + JITTER * (2 * self.uniform() - 1)
        return round(min(self.most_ms, max(self.least_ms, self.wait_ms * spread)))

    def _roll(self) -> None:
        now = self.clock()
        elapsed = now - self._window_start
        if elapsed < self.window_seconds:
            return
        windows = int(elapsed // self.window_seconds)
        if self._refused and windows == 1:
            ratio = self._refused / max(self._answered, 1)
            grown = self.wait_ms * math.sqrt(ratio)
            self.wait_ms = min(float(self.most_ms), max(float(self.least_ms), grown))
        else:
            # Quiet seconds: the crowd the advice spread out is thinning; halve per second.
            self.wait_ms = max(float(self.least_ms), self.wait_ms / 2 ** min(windows, 30))
        self._window_start, self._answered, self._refused = now, 0, 0
