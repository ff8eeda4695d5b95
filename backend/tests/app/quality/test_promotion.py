"""The promotion gate as a rule: beat the active model by the margin, regress on nothing."""

from app.quality.golden_set import GoldenReport, ItemScore
from app.quality.promotion import golden_figures, promotion_gate


def report(facts: list[float], meaning: list[float] = ()) -> GoldenReport:
    items = [ItemScore(i, f"q{i}", "a", score, "facts") for i, score in enumerate(facts)]
    items += [ItemScore(100 + i, "m", "a", score, "meaning") for i, score in enumerate(meaning)]
    mean = sum(i.agreement for i in items) / len(items)
    return GoldenReport(accuracy_score=mean, items=items, size=len(items), built_at=None)


def test_a_clearly_better_candidate_is_promoted():
    decision = promotion_gate(report([1, 1, 0.5, 0]), report([1, 0.5, 0, 0]), 0.02, 0.05)
    assert decision.promote
    assert decision.reasons == ["accuracy 0.375 → 0.625"]
    assert decision.candidate["fully_correct_share"] == 0.5


def test_an_equal_or_slightly_better_candidate_keeps_the_active_model():
    same = promotion_gate(report([1, 0.5]), report([1, 0.5]), 0.02, 0.05)
    slightly = promotion_gate(report([1, 0.52]), report([1, 0.5]), 0.02, 0.05)
    assert not same.promote and not slightly.promote
    assert same.reasons == ["accuracy 0.750 does not beat the active 0.750 by 0.020"]
    assert promotion_gate(report([1, 0.54]), report([1, 0.5]), 0.02, 0.05).promote


def test_a_better_average_that_regresses_on_meaning_items_is_rejected():
    candidate = report(facts=[1, 1, 1, 1], meaning=[0, 1])  # 0.833
    active = report(facts=[0.5, 0.5, 0.5, 0.5], meaning=[1, 1])  # 0.667
    decision = promotion_gate(candidate, active, 0.02, 0.05)
    assert not decision.promote
    assert decision.reasons == ["meaning_accuracy regresses 1.000 → 0.500 (tolerance 0.050)"]
    assert promotion_gate(candidate, active, 0.02, 0.5).promote


def test_figures_of_a_set_without_meaning_items_leave_that_figure_out():
    assert golden_figures(report([1, 0])) == {
        "accuracy_score": 0.5, "fully_correct_share": 0.5, "facts_accuracy": 0.5,
        "meaning_accuracy": None,
    }  # fmt: skip


def test_with_the_cheaper_rule_an_as_good_candidate_answering_itself_is_promoted():
    same = report([1, 0.5, 1, 1])
    slightly_worse = report([1, 0.45, 1, 1])  # accuracy −0.0125, within the tolerance
    decision = promotion_gate(slightly_worse, same, 0.02, 0.05, local_share=0.5,
                              cheaper_min_share=0.3)  # fmt: skip
    assert decision.promote
    assert decision.reasons[0].startswith("as good (accuracy 0.875 → 0.863")
    assert decision.candidate["local_share"] == 0.5


def test_the_cheaper_rule_never_promotes_a_worse_or_a_barely_local_candidate():
    active = report([1, 1, 1, 1])
    worse = report([1, 1, 1, 0.5])  # −0.125 accuracy, and fully correct −0.25
    as_good = report([1, 1, 1, 1])
    off = promotion_gate(as_good, active, 0.02, 0.05, local_share=0.9)  # rule not enabled
    too_worse = promotion_gate(worse, active, 0.02, 0.05, local_share=0.9, cheaper_min_share=0.3)
    too_paid = promotion_gate(as_good, active, 0.02, 0.05, local_share=0.1, cheaper_min_share=0.3)
    assert not (off.promote or too_worse.promote or too_paid.promote)
    assert too_paid.reasons[-1] == (
        "not promoted as cheaper: local share 10% (needs 30%), accuracy within tolerance: True"
    )
