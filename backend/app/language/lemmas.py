"""Russian lemmas of a text's content words (razdel tokens, pymorphy3 dictionary forms).

Stems (``wording.py``) are enough to say "this word is new"; deciding whether a new word
changes what a question asks needs the word itself: «квартирах», «квартиры» and «квартиру»
are one lemma, «газом» is «газ», «застрял» is «застрять». The verifier and the emergency
detector compare questions with answers lemma by lemma. The analyser loads its
dictionaries from the wheel in about 0.1 s, once per process.
"""

from functools import cache, lru_cache

import pymorphy3
import razdel

#: Parts of speech that carry what a question is about.
_CONTENT_POS = frozenset({"NOUN", "VERB", "INFN", "ADJF", "ADJS", "PRTF", "PRTS", "GRND", "ADVB"})
#: Lemmas of words every question is wrapped in, whatever it asks.
_FILLER_WORDS = """быть мочь можно нужно надо хотеть сказать подсказать здравствовать добрый
день спасибо пожалуйста вопрос узнать делать сделать такой это весь очень просто еще уже
также тоже сейчас вообще скоро сколько что-то кто-то какой-то как-то где-то раз иметься
являться"""
_FILLER = frozenset(_FILLER_WORDS.split())
#: Pronoun-like and question words («ваш», «какой», «где», «почему»): grammar, not topic.
_FUNCTION_GRAMMEMES = frozenset({"Apro", "Ques", "Anum"})
#: Words that turn a question about a service into a report that it failed.
NEGATIONS = frozenset({"не", "нет", "ни", "никто", "ничто", "никогда", "никак", "нигде"})


@cache
def _analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=65536)
def _parse(word: str) -> tuple[str, str | None]:
    """The word's lemma and part of speech (None for a function word)."""
    parsed = _analyzer().parse(word)[0]
    pos = parsed.tag.POS
    if pos is not None and _FUNCTION_GRAMMEMES & parsed.tag.grammemes:
        pos = "FUNCTION"
    return parsed.normal_form.replace("ё", "е"), pos


def words(text: str) -> list[str]:
    """Lower-cased word tokens (numbers and punctuation dropped). Lone surrogates (JSON
    lets a client send «\\ud800») are dropped: the dictionary cannot look them up."""
    text = text.encode("utf-8", "ignore").decode("utf-8")
    return [
        token.text.lower()
        for token in razdel.tokenize(text)
        if any(ch.isalpha() for ch in token.text)
    ]


@lru_cache(maxsize=65536)
def all_lemmas(text: str) -> tuple[str, ...]:
    """Every word's lemma, in order (function words included)."""
    return tuple(_parse(word)[0] for word in words(text))


@lru_cache(maxsize=65536)
def content_lemmas(text: str) -> frozenset[str]:
    """Lemmas of the words that say what the text is about."""
    lemmas = set()
    for word in words(text):
        lemma, pos = _parse(word)
        if (pos in _CONTENT_POS or pos is None) and len(lemma) > 2 and lemma not in _FILLER:
            lemmas.add(lemma)
    return frozenset(lemmas)


def negated(text: str) -> bool:
    """The text denies or reports an absence («не мыли», «никто не приходит»)."""
    return any(lemma in NEGATIONS for lemma in all_lemmas(text))
