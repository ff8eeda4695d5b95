"""The self-learning benchmark stays runnable, and its simulated parts follow the protocol."""

import json
import random
from dataclasses import asdict

from benchmarks import self_learning
from benchmarks.dataset import DEFAULT_DATASET, load_intents, split_phrasings
from benchmarks.simulated_llm import SimulatedLLM

REPORT_KEYS = {
    "n",
    "cost_ratio_last_window",
    "prompt_tokens_ratio",
    "local_answer_share",
    "local_avg_rating",
    "local_baseline_avg_rating",
    "local_ungrounded_rate",
    "baseline_avg_rating",
    "first_window_avg_rating",
    "last_window_avg_rating",
    "rating_lift",
    "no_paid_call_share",
    "cost_ratio",
    "cache_false_hit_rate",
    "probe_avg_rating",
    "probe_rating_lift",
    "probe_no_paid_call_share",
    "probe_false_hit_rate",
    "p50_response_time",
    "p95_response_time",
}


def test_the_simulated_resident_rates_by_key_fact_coverage():
    intent = load_intents(DEFAULT_DATASET)[0]
    both = " и ".join(intent.key_facts)
    assert self_learning.rating_for(both.upper(), intent) == 5
    assert self_learning.rating_for(intent.key_facts[0], intent) == 3
    assert self_learning.rating_for("Не знаю.", intent) == 1


def test_the_simulated_llm_copies_facts_it_was_shown_far_more_often():
    intents = load_intents(DEFAULT_DATASET)
    llm = SimulatedLLM(intents, seed=1)
    intent = intents[0]
    question = {"role": "user", "content": intent.questions[0]}
    shown = {"role": "system", "content": " ".join(intent.key_facts)}

    def facts_found(messages) -> int:
        text = llm.complete(messages, "test")["choices"][0]["message"]["content"]
        return sum(fact in text for fact in intent.key_facts)

    blind = sum(facts_found([question]) for _ in range(300)) / 600
    informed = sum(facts_found([shown, question]) for _ in range(300)) / 600
    assert 0.2 < blind < 0.4
    assert 0.8 < informed < 0.97
    assert llm.bills["test"].calls == 600 and llm.bills["test"].cost_usd > 0


def test_probe_phrasings_never_enter_the_stream():
    intents = load_intents(DEFAULT_DATASET)
    split = split_phrasings(intents, seed=7)
    stream = self_learning.draw_stream(intents, split, 500, random.Random(7))
    probe = {q.text for q in self_learning.probe_questions(intents, split)}
    assert len(probe) == 2 * len(intents)
    assert not probe & {q.text for q in stream}


def test_a_short_run_writes_the_full_report(tmp_path):
    report = self_learning.main(["--n", "60", "--seed", "3", "--out", str(tmp_path)])

    assert report.keys() >= REPORT_KEYS
    assert report["n"] == 60
    assert 1 <= report["baseline_avg_rating"] <= 5
    assert 1 <= report["probe_avg_rating"] <= 5
    assert report["prompt_tokens_ratio"] > 1, "a call with context carries more than a bare one"
    assert report["local_answers"] == 0 and report["local_answer_share"] == 0.0
    assert json.loads((tmp_path / "report.json").read_text()) == report
    assert "Rating lift" in (tmp_path / "report.md").read_text()
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    probe = 2 * len(load_intents(DEFAULT_DATASET))  # two held-out phrasings per intent
    assert (tmp_path / "trace.jsonl").read_text().count("\n") == 60 + probe


def test_local_answers_are_compared_with_the_matcher_on_the_same_questions():
    Outcome = self_learning.Outcome
    earlier = [Outcome(intent=0, rating=3, paid=True, source="llm") for _ in range(5)]
    outcomes = [
        *earlier,
        Outcome(intent=0, rating=5, paid=False, source="local", baseline_rating=3),
        Outcome(intent=0, rating=2, paid=False, source="local", ungrounded=True),
        Outcome(intent=0, rating=4, paid=False, source="cache"),
        Outcome(intent=0, rating=5, paid=False, source="local", baseline_rating=5),
        Outcome(intent=0, rating=3, paid=True, source="llm"),
    ]

    figures = self_learning.local_figures(outcomes)  # the last window: 2 of the 10 answers

    assert figures["local_answers"] == 3 and figures["local_answer_share"] == 0.5
    assert figures["local_avg_rating"] == 4.0
    assert (figures["local_avg_rating_where_compared"], figures["local_baseline_avg_rating"]) == (
        5.0,
        4.0,
    )
    assert figures["local_ungrounded_rate"] == round(1 / 3, 4)


def test_local_auto_configures_the_service_with_settings_it_knows():
    from app.core.config import Settings
    from benchmarks.local_auto import auto_env

    settings = Settings(_env_file=None, **auto_env("gemma3-270m", 40, 500))

    assert settings.use_local_model and settings.run_worker_in_service
    assert settings.retraining_every_new_samples == 500
    assert settings.retraining_base_model == "gemma3-270m"
    assert settings.retraining_max_steps == 40
    assert settings.schedule_tick_cron == "* * * * *"


def test_local_auto_records_each_run_with_its_gate_decision():
    from benchmarks.local_auto import record_of

    gate = {
        "reasons": ["accuracy 0.700 does not beat the active 0.800 by 0.020"],
        "candidate": {"accuracy_score": 0.7},
        "active": {"accuracy_score": 0.8},
    }
    run = {
        "id": 4,
        "status": "rejected",
        "reasons": ["512 new approved dialogs since the last run ≥ 500"],
        "started_at": "2026-11-30T22:55:00+00:00",
        "finished_at": "2026-11-30T23:19:30+00:00",
        "log": [
            {"step": "export", "message": "exporting approved dialogs"},
            {"step": "export", "message": "137 samples in /data/training/x.jsonl"},
        ],
        "result": {"gate": gate},
    }

    record = record_of(run, question_index=580)
    markdown = self_learning.retraining_runs_table(
        {"local_mode": "auto", "retraining_runs": [asdict(record)]}
    )

    assert (record.samples, record.minutes, record.queued_at_question) == (137, 24.5, 580)
    assert record.candidate == {"accuracy_score": 0.7}
    assert markdown[-1] == (
        "| 4 | 580 | 137 | 24.5 | rejected | "
        "accuracy 0.700 does not beat the active 0.800 by 0.020 |"
    )
