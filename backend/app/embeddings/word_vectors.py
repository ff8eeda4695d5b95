"""e5 vectors of single words, kept in a bounded cache: the cache verifier and the offline
answer compare a question's words with an answer's or a fact's, and the same few thousand
domain words recur in every question."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np


class WordVectors:
    """e5 query vectors of single lemmas, kept in a bounded cache: the same few thousand
    domain words recur in every question."""

    def __init__(self, embed: Callable[[list[str]], Sequence], capacity: int = 20000) -> None:
        self._embed = embed
        self._capacity = capacity
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # request threads share one cache

    def of(self, words: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self._of(words)

    def _of(self, words: Sequence[str]) -> np.ndarray:
        missing = [w for w in dict.fromkeys(words) if w not in self._cache]
        if missing:
            for word, vector in zip(missing, self._embed(missing), strict=True):
                self._cache[word] = np.asarray(vector, np.float32)
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
        for word in words:
            self._cache.move_to_end(word)
        return np.vstack([self._cache[w] for w in words]) if words else np.zeros((0, 0))
