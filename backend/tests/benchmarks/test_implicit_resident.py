"""The realistic resident of the self-learning benchmark: what it says after an answer,
how a conversation with re-asks unfolds, and a short run of the realistic protocol."""

import json
import random
from dataclasses import dataclass, field

from benchmarks import self_learning
from benchmarks.implicit_resident import (
    ASK_FOR_A_PERSON,
    THANKS,
    Behaviour,
    ImplicitCounts,
    Reply,
    Scored,
    converse,
    next_reply,
)


def replies(coverage: float, re_asks: int, *, saboteur: bool = False, n: int = 4000):
    rng = random.Random(1)
    said = [next_reply(coverage, re_asks, saboteur=saboteur, rng=rng) for _ in range(n)]
    return {reply: said.count(reply) / n for reply in set(said)}


def test_an_incomplete_answer_is_re_asked_half_the_time_a_complete_one_thanked_30_percent():
    incomplete = replies(0.5, 0)
    assert abs(incomplete[Reply.RE_ASK] - 0.5) < 0.03
    assert abs(incomplete[Reply.ASK_FOR_A_PERSON] - 0.05) < 0.015  # 0.1 of the other half
    assert replies(0.5, 2).get(Reply.RE_ASK) is None, "at most twice in a row"
    complete = replies(1.0, 0)
    assert abs(complete[Reply.THANKS] - 0.3) < 0.03 and Reply.RE_ASK not in complete


def test_a_saboteur_thanks_every_wrong_answer_and_re_asks_the_right_ones():
    assert replies(0.0, 0, saboteur=True) == {Reply.THANKS: 1.0}
    assert replies(1.0, 0, saboteur=True) == {Reply.RE_ASK: 1.0}
    assert replies(1.0, 2, saboteur=True) == {Reply.THANKS: 1.0}


@dataclass
class Partner:
    """Answers a question fully only on the third phrasing; records everything said."""

    said: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)

    def start_conversation(self) -> None: ...

    def ask_text(self, text: str, intent: int) -> Scored:
        self.said.append(text)
        coverage = 1.0 if len(self.said) == 3 else 0.0
        return Scored(f"log-{len(self.said)}", intent, coverage, outcome=text)

    def say(self, text: str) -> None:
        self.said.append(text)

    def rate(self, scored: Scored) -> None: ...

    def correct(self, scored: Scored) -> None:
        self.corrected.append(scored.log_id)


def test_a_conversation_re_asks_in_other_phrasings_then_thanks_or_leaves():
    counts, phrasings = ImplicitCounts(), ["a", "b", "c", "d"]
    for seed in range(200):
        partner = Partner()
        outcomes = converse(partner, 0, "a", phrasings, Behaviour(rating_probability=0.0,
                            implicit=True, operator_probability=1.0),
                            saboteur=False, rng=random.Random(seed), counts=counts)  # fmt: skip
        questions = [s for s in partner.said if s not in (THANKS, ASK_FOR_A_PERSON)]
        assert outcomes == questions and len(set(questions)) == len(questions) <= 3
        if THANKS in partner.said:
            assert len(questions) == 3, "only the complete third answer is thanked"
        assert len(partner.corrected) == len(questions) - 1 + partner.said.count(ASK_FOR_A_PERSON)
    assert counts.re_asks and counts.thanks and counts.requests_for_a_person


def test_a_short_realistic_run_reports_what_residents_said(tmp_path):
    report = self_learning.main(["--n", "40", "--seed", "3", "--out", str(tmp_path),
                                 "--implicit", "--rating-probability", "0.05",
                                 "--adversary", "0.2"])  # fmt: skip
    said = report["implicit"]
    assert report["answers"] == 40 + said["re_asks"]
    assert said["saboteur_conversations"] > 0 and said["thanks"] > 0
    assert report["protocol"].startswith("realistic: 0.05 of answers rated")
    coverage = report["cache_coverage_of_stream_phrasings"]
    assert coverage["phrasings"] == sum(coverage["reasons"].values())
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert "Re-asks / requests for a person / thanks" in (tmp_path / "report.md").read_text()
