"""Content words of a question, reduced to their stems (Snowball, Russian).

Used against the best-known failure of semantic caches: near-identical wording with
another meaning ("когда моют окна?" / "когда моют полы?") embeds closer than real
paraphrases do, but it brings a content word the verified answer has never been asked
or answered about.
"""

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[а-яёa-z]+|\d+")
_STEMMER = snowballstemmer.stemmer("russian")
# Function words and the politeness and question words residents wrap questions in.
_STOP_WORDS = (
    "а и в во не ни что чтобы он она оно они на я с со как к ко до по из у же за то бы о "
    "об от для вы мы вас нас вам нам ли или но ну так да нет это этот эта эти уже ещё "
    "еще при над под кто где когда какой какая какое какие каких каком сколько почему "
    "зачем можно нужно надо ваш ваша ваше ваши наш наша наше наши мне меня мой моя мое "
    "моё мои если будет будут буду есть был была были быть вообще пожалуйста подскажите "
    "скажите здравствуйте добрый день спасибо хотел хотела хочу узнать вопрос там тут "
    "тоже также все всё всех вся весь раз через после перед много мало очень просто"
)
_STOP = frozenset(_STOP_WORDS.split())
MIN_STEM_LENGTH = 3


@lru_cache(maxsize=65536)
def content_stems(text: str) -> frozenset[str]:
    words = [w for w in _WORD.findall(text.lower().replace("ё", "е")) if w not in _STOP]
    return frozenset(stem for stem in _STEMMER.stemWords(words) if len(stem) >= MIN_STEM_LENGTH)


class StemFrequencies:
    """In how many of a corpus's texts each content stem occurs: what tells a fact's words
    (few texts use them) from the words every answer shares."""

    def __init__(self, texts: Iterable[str]) -> None:
        documents = [content_stems(text) for text in texts]
        self.texts = len(documents)
        self._counts = Counter(stem for stems in documents for stem in stems)

    @classmethod
    def of_counts(cls, counts: Counter[str], texts: int) -> "StemFrequencies":
        """Frequencies kept up to date elsewhere (the matcher adds and removes texts)."""
        frequencies = cls(())
        frequencies.texts, frequencies._counts = texts, counts
        return frequencies

    def __getitem__(self, stem: str) -> int:
        return self._counts[stem]

    def at_least(self, share: float) -> frozenset[str]:
        """Stems in at least ``share`` of the texts."""
        floor = share * self.texts
        return frozenset(stem for stem, n in self._counts.items() if n >= floor)
