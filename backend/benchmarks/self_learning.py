"""The self-learning benchmark: does the module get better and cheaper as people rate it?

    python -m benchmarks.self_learning --dataset PATH [--n 2000] [--seed 7] [--out DIR]
    python -m benchmarks.self_learning --rating-probability 0.05 --implicit \
        [--operator-probability 0.1] [--adversary 0.05]

Follows the protocol of ``datasets/README.md`` (the shared data README): a fresh embedded
database, the real service started with ``python -m app.cli serve`` and spoken to over
HTTP, and a simulated paid LLM (``benchmarks.simulated_llm``) on 127.0.0.1.

1. Two phrasings of every intent are kept aside as probes; the stream draws from the rest.
2. Stream: N questions, each in a new session or (30 %) continuing the previous one.
3. A simulated resident rates an answer with probability 0.6: coverage = share of the
   intent's key facts found in it; rating = 1 + round(4 × coverage).
4. A simulated operator corrects an answer rated ≤ 2 with probability 0.3, sending the
   intent's reference answer.
5. Probe: every probe phrasing once, in a fresh session, scored without feedback.
6. Baseline: the same stream and probe answered by the paid LLM alone (no learning).

``--implicit``: the realistic resident of ``benchmarks.implicit_resident`` instead, who rates
rarely and re-asks, asks for a person or thanks in the same conversation.

Nothing is read from the dataset except through the simulated resident, operator and LLM.
Writes ``DIR/report.json``, ``DIR/report.md`` and ``DIR/curves.png``.
"""

import argparse
import json
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np
from openai import OpenAI
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from app.answering.grounding_guard import stated_facts
from app.core.paths import BACKEND_DIR
from app.llm.prompt import SYSTEM_PROMPT
from benchmarks.dataset import (
    DEFAULT_DATASET,
    RESULTS_DIR,
    Intent,
    display_path,
    load_intents,
    split_phrasings,
)
from benchmarks.implicit_resident import Behaviour, Residents, Scored
from benchmarks.local_auto import RetrainingWatch, auto_env
from benchmarks.local_model_step import train_and_activate
from benchmarks.service import ServiceProcess
from benchmarks.simulated_llm import PRICE_PER_1K_TOKENS, SimulatedLLM, normalise

CORRECTION_PROBABILITY = 0.3
#: The stream asks the service's worker for a new verifier version this often (questions).
VERIFIER_TRAIN_EVERY = 200
KNOWLEDGE_TEXT = (BACKEND_DIR / "knowledge" / "company_facts.md").read_text(encoding="utf-8")
CONTINUE_SESSION_PROBABILITY = 0.3
WINDOW_SHARE = 0.2
#: --local auto: how often (in questions) the stream asks whether a retraining run is open.
AUTO_CHECK_EVERY = 10
ADMIN_KEY = "benchmark-operator-key"
#: What the shipped fact sheet (imported by the service at start) states: grounded figures.
KNOWLEDGE_FACTS = stated_facts(
    (BACKEND_DIR / "knowledge" / "company_facts.md").read_text(encoding="utf-8")
)


def coverage(answer: str, intent: Intent) -> float:
    text = normalise(answer)
    return sum(normalise(f) in text for f in intent.key_facts) / len(intent.key_facts)


def rating_for(answer: str, intent: Intent) -> int:
    return 1 + round(4 * coverage(answer, intent))


@dataclass(frozen=True)
class Question:
    intent: int
    text: str
    new_session: bool


@dataclass
class Outcome:
    """What happened to one question, in either arm."""

    intent: int
    rating: int  # what the answer deserves, whether or not the resident said it
    paid: bool
    cached: bool = False
    false_hit: bool = False
    response_time: float = 0.0
    question: str = ""
    source_question: str | None = None
    source: str = "llm"
    #: Local answers only: what the matcher's best candidate, served verbatim, would have
    #: been rated, and figures the answer states that nothing it could have seen states.
    baseline_rating: int | None = None
    ungrounded: bool = False


def draw_stream(intents: list[Intent], split, n: int, rng: random.Random) -> list[Question]:
    stream = []
    for index in range(n):
        intent = rng.randrange(len(intents))
        phrasing = rng.choice(split[intent][0])
        new_session = index == 0 or rng.random() >= CONTINUE_SESSION_PROBABILITY
        stream.append(Question(intent, intents[intent].questions[phrasing], new_session))
    return stream


def probe_questions(intents: list[Intent], split) -> list[Question]:
    return [
        Question(i, intents[i].questions[p], True)
        for i, (_, probe) in enumerate(split)
        for p in probe
    ]


class LearningArm:
    """The real service over HTTP, with a simulated resident and operator."""

    def __init__(
        self,
        base_url: str,
        intents: list[Intent],
        rng: random.Random,
        behaviour: Behaviour = Behaviour(),
    ) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=120)
        self.intents = intents
        self.rng = rng
        self.behaviour = behaviour
        self.intent_of_log: dict[str, int] = {}
        self.question_of_log: dict[str, str] = {}
        self.session_id = ""
        self.sessions = 0
        self.conversation_token: str | None = None
        #: Verified answer id → the dialog it came from (read at the end).
        self.source_of_answer: dict[str, int] = {}

    def start_conversation(self) -> None:
        self.sessions += 1
        self.session_id = f"bench-{self.sessions}"
        self.conversation_token = None

    def ask(self, question: Question, *, feedback: bool) -> Outcome:
        if question.new_session:
            self.start_conversation()
        body, outcome = self._answered(question.text, question.intent)
        if feedback:
            self.judge(body, outcome.rating, self.intents[question.intent])
        return outcome

    def ask_text(self, text: str, intent: int) -> Scored:
        """``--implicit``: one question of a conversation the resident drives."""
        body, outcome = self._answered(text, intent)
        return Scored(
            body["log_id"], intent, coverage(body["response"], self.intents[intent]), outcome,
            token=body["feedback_token"],
        )  # fmt: skip

    def say(self, text: str) -> None:
        """A message that is not a question of the stream (thanks, asking for a person)."""
        self._send(text)

    def rate(self, scored: Scored) -> None:
        self.client.post(
            "/api/voice/feedback",
            json={"log_id": scored.log_id, "rating": scored.outcome.rating,
                  "feedback_token": scored.token},
            headers=self.resident_headers,
        ).raise_for_status()  # fmt: skip

    def correct(self, scored: Scored) -> None:
        self.client.post(
            f"/api/voice/logs/{scored.log_id}/correction",
            json={"corrected_response": self.intents[scored.intent].reference_answer,
                  "operator": "benchmark"},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ).raise_for_status()  # fmt: skip

    def _send(self, text: str) -> tuple[dict, float]:
        started = time.perf_counter()
        response = self.client.post(
            "/api/voice/process",
            json={
                "message": text,
                "session_id": self.session_id,
                "conversation_token": self.conversation_token,
            },
            headers=self.resident_headers,
        )
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        body = response.json()
        self.conversation_token = body.get("conversation_token") or self.conversation_token
        return body, elapsed

    def _answered(self, text: str, intent_index: int) -> tuple[dict, Outcome]:
        body, elapsed = self._send(text)
        question = Question(intent_index, text, False)
        intent = self.intents[question.intent]
        self.intent_of_log[body["log_id"]] = question.intent
        self.question_of_log[body["log_id"]] = question.text
        cached = body.get("answer_source") == "cache"
        source = body.get("source_log_id")
        outcome = Outcome(
            intent=question.intent,
            rating=rating_for(body["response"], intent),
            paid=body.get("answer_source") == "llm",
            cached=cached,
            false_hit=cached and self.intent_of_log.get(source) != question.intent,
            response_time=elapsed,
            question=question.text,
            source_question=self.question_of_log.get(source) if cached else None,
            source=body.get("answer_source", ""),
        )
        if outcome.source == "local":
            self.compare_with_the_matcher(outcome, body["response"], intent)
        return body, outcome

    def compare_with_the_matcher(self, outcome: Outcome, answer: str, intent: Intent) -> None:
        """The no-model baseline for a local answer: the matcher's best-scored candidate
        served verbatim, at the same moment; and the grounding of the local answer against
        everything it could have been shown (those candidates, the question, the facts)."""
        explained = self.client.get(
            "/api/voice/verified-answers/match",
            params={"question": outcome.question},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        explained.raise_for_status()
        candidates = explained.json()["candidates"]
        if candidates:
            outcome.baseline_rating = rating_for(candidates[0]["text"], intent)
        sources = [outcome.question, *(c["text"] for c in candidates)]
        known = KNOWLEDGE_FACTS.union(*(stated_facts(text) for text in sources))
        outcome.ungrounded = bool(stated_facts(answer) - known)

    def train_verifier(self) -> None:
        """Ask the service's worker for a new verifier version (it trains in seconds)."""
        self.client.post(
            "/api/voice/verifier/train", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).raise_for_status()

    def verifier_status(self) -> dict:
        return self.client.get(
            "/api/voice/verifier", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()

    @property
    def resident_headers(self) -> dict[str, str]:
        return {"X-Forwarded-For": resident_address(self.sessions)}

    def cache_coverage(self, phrasings: list[tuple[int, str]]) -> dict:
        """At the end: which stream phrasings the cache would now serve, with the answer of
        their own intent, and why it declines the others (the matcher's reasons)."""
        served_right, reasons = 0, Counter()
        for intent, text in phrasings:
            explained = self.client.get(
                "/api/voice/verified-answers/match",
                params={"question": text},
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            ).json()
            if explained["served"]:
                key = explained["answer"]["key"]
                source = self.source_of_answer.get(key)
                right = source is None or self.intent_of_log.get(source) == intent
                served_right += right
                reasons["served another intent's answer" if not right else "served"] += 1
            else:
                reason = explained["reason"].split(":")[0].split("(")[0].strip()
                if reason == "no clear winner between answers":
                    reason += f" (rival: {self._rival(explained['candidates'], intent)})"
                reasons[reason] += 1
        return {"phrasings": len(phrasings), "served_own_intent": served_right,
                "reasons": dict(reasons.most_common())}  # fmt: skip

    def _rival(self, candidates: list[dict], intent: int) -> str:
        """What the second-ranked class is: a fact, or an answer of which intent."""
        if len(candidates) < 2:
            return "none"
        rival = candidates[1]
        if rival["kind"] == "fact":
            return "a fact"
        source = self.intent_of_log.get(self.source_of_answer.get(rival["key"]))
        served = "served" if rival["served"] else "pending"
        return f"{served} answer of {'the same' if source == intent else 'another'} intent"

    def verified_answers_by_intent(self) -> dict[str, int]:
        """How many active verified answers each intent ended with (fragmentation)."""
        answers = self.client.get(
            "/api/voice/verified-answers",
            params={"limit": 1000},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        ).json()
        counts: dict[str, int] = {}
        self.source_of_answer = {a["id"]: a["source_log_id"] for a in answers}
        for answer in answers:
            intent = self.intent_of_log.get(answer["source_log_id"])
            name = self.intents[intent].intent if intent is not None else "unknown"
            counts[name] = counts.get(name, 0) + 1
        return counts

    def judge(self, answer: dict, rating: int, intent: Intent) -> None:
        if self.rng.random() >= self.behaviour.rating_probability:
            return
        log_id = answer["log_id"]
        self.client.post(
            "/api/voice/feedback",
            json={"log_id": log_id, "rating": rating, "feedback_token": answer["feedback_token"]},
            headers=self.resident_headers,
        ).raise_for_status()
        if rating <= 2 and self.rng.random() < CORRECTION_PROBABILITY:
            self.client.post(
                f"/api/voice/logs/{log_id}/correction",
                json={"corrected_response": intent.reference_answer, "operator": "benchmark"},
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            ).raise_for_status()


class BaselineArm:
    """The paid LLM alone: the service's instructions and the question, nothing learned.
    With ``knowledge``: plain RAG, the whole knowledge base in every prompt (what a team
    would deploy instead of this module), billed to its own key."""

    def __init__(
        self, llm_url: str, intents: list[Intent], knowledge: str = "", key: str = "baseline"
    ) -> None:
        self.client = OpenAI(api_key=key, base_url=llm_url, max_retries=0)
        self.intents = intents
        self.system = SYSTEM_PROMPT + (
            f"\n\nСправочник компании:\n{knowledge}" if knowledge else ""
        )

    def ask(self, question: Question) -> Outcome:
        return self.ask_text(question.text, question.intent).outcome

    def ask_text(self, text: str, intent: int) -> Scored:
        started = time.perf_counter()
        answer = self._complete(text)
        outcome = Outcome(
            intent=intent,
            rating=rating_for(answer, self.intents[intent]),
            paid=True,
            response_time=time.perf_counter() - started,
        )
        return Scored(None, intent, coverage(answer, self.intents[intent]), outcome)

    def start_conversation(self) -> None:
        """Every question is answered alone here."""

    def say(self, text: str) -> None:
        """The bare model answers (and bills) thanks and requests for a person too."""
        self._complete(text)

    def rate(self, scored: Scored) -> None:
        """Nothing learns from ratings here."""

    def correct(self, scored: Scored) -> None:
        """Nor from corrections."""

    def _complete(self, text: str) -> str:
        completion = self.client.chat.completions.create(
            model="any",
            messages=[
                {"role": "system", "content": self.system},
                {"role": "user", "content": text},
            ],
        )
        return completion.choices[0].message.content or ""


def service_env(llm_url: str) -> dict[str, str]:
    return {
        "EMERGENT_LLM_KEY": "learning",
        "LLM_BASE_URL": llm_url,
        "LLM_MAX_RETRIES": "0",
        "LLM_PRICE_INPUT_PER_1K": str(PRICE_PER_1K_TOKENS),
        "LLM_PRICE_OUTPUT_PER_1K": str(PRICE_PER_1K_TOKENS),
        "ADMIN_API_KEY": ADMIN_KEY,
        # The benchmark is the residents' reverse proxy: each conversation arrives with its
        # own X-Forwarded-For, which the service trusts from this address only.
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        # Thousands of questions in minutes: no rate limits here.
        "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
        "RATE_LIMIT_SESSION_PER_MINUTE": "0",
        # The worker trains cache verifiers when the stream asks (``VERIFIER_TRAIN_EVERY``);
        # its schedule never ticks during a run.
        "RUN_WORKER_IN_SERVICE": "true",
        "SCHEDULE_TICK_CRON": "0 0 1 1 *",
    }


def resident_address(conversation: int) -> str:
    """Each simulated conversation is a different resident with an address of its own."""
    return f"10.{(conversation >> 16) & 255}.{(conversation >> 8) & 255}.{conversation & 255}"


def mean(values) -> float | None:
    values = list(values)
    return round(float(np.mean(values)), 4) if values else None


def share(flags) -> float | None:
    flags = list(flags)
    return round(sum(flags) / len(flags), 4) if flags else None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 4) if a is not None and b else None


def window_of(outcomes: list) -> int:
    """The last 20 % of a stream's answers (re-asks included)."""
    return max(1, int(len(outcomes) * WINDOW_SHARE))


def build_report(args, stream, passes, probe, baseline_stream, baseline_probe, bills) -> dict:
    n = len(stream)
    learning = passes[-1]
    window = window_of(learning)
    last = learning[-window:]
    cached = [o for o in learning if o.cached]
    probe_cached = [o for o in probe if o.cached]
    baseline_avg = mean(o.rating for o in baseline_stream)
    baseline_probe_avg = mean(o.rating for o in baseline_probe)
    times = [o.response_time for p in passes for o in p] + [o.response_time for o in probe]
    report = {
        "dataset": display_path(args.dataset),
        "n": n,
        "answers": len(learning),
        "seed": args.seed,
        "passes": len(passes),
        "intents": len({q.intent for q in stream}),
        "baseline_avg_rating": baseline_avg,
        "first_window_avg_rating": mean(o.rating for o in passes[0][: window_of(passes[0])]),
        "last_window_avg_rating": mean(o.rating for o in last),
        "rating_lift": ratio(mean(o.rating for o in last), baseline_avg),
        "no_paid_call_share": share(not o.paid for o in last),
        "stream_no_paid_call_share": share(not o.paid for o in learning),
        "cost_ratio": ratio(bills["learning_stream"], bills["baseline_stream"]),
        "stream_cost_usd": round(bills["learning_stream"], 6),
        "baseline_stream_cost_usd": round(bills["baseline_stream"], 6),
        "cache_answers": len(cached),
        "cache_false_hit_rate": share(o.false_hit for o in cached),
        "baseline_probe_avg_rating": baseline_probe_avg,
        "probe_avg_rating": mean(o.rating for o in probe),
        "probe_rating_lift": ratio(mean(o.rating for o in probe), baseline_probe_avg),
        "probe_no_paid_call_share": share(not o.paid for o in probe),
        "probe_cache_answers": len(probe_cached),
        "probe_false_hit_rate": share(o.false_hit for o in probe_cached) if probe_cached else 0.0,
        "p50_response_time": round(float(np.percentile(times, 50)), 4),
        "p95_response_time": round(float(np.percentile(times, 95)), 4),
    }
    if len(passes) > 1:
        report["last_window_avg_rating_by_pass"] = [
            mean(o.rating for o in p[-window_of(p) :]) for p in passes
        ]
    return report


def plot_curves(path: Path, passes, baseline_stream, costs) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    learning = [o for p in passes for o in p]
    baseline = baseline_stream * len(passes)
    window = max(1, min(100, len(learning) // 5))

    def rolling(values):
        values = np.asarray(values, dtype=float)
        kernel = np.ones(window) / window
        return np.convolve(values, kernel, mode="valid")

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    x = np.arange(window, len(learning) + 1)
    top.plot(x, rolling([o.rating for o in learning]), label="self-learning service")
    baseline_rolling = rolling([o.rating for o in baseline])
    # With --implicit each arm's residents re-ask as their own answers deserve: the
    # streams of answers differ in length.
    top.plot(np.arange(window, window + len(baseline_rolling)), baseline_rolling,
             label="paid LLM only")  # fmt: skip
    if any(o.source == "local" for o in learning):
        top.plot(
            x,
            rolling([float(o.source == "local") * 5 for o in learning]),
            label="share answered by the local model (×5)",
        )
    top.set_ylabel(f"rating, rolling mean of {window}")
    top.set_ylim(1, 5.1)
    top.legend(loc="lower right")
    top.grid(alpha=0.3)
    bottom.plot(np.arange(1, len(costs["learning"]) + 1), costs["learning"], label="self-learning")
    bottom.plot(np.arange(1, len(costs["baseline"]) + 1), costs["baseline"], label="paid only")
    bottom.set_ylabel("cumulative paid LLM cost, USD")
    bottom.set_xlabel("question in the stream")
    bottom.legend(loc="upper left")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def render_markdown(report: dict) -> str:
    rows = [
        ("Questions in the stream (answers scored, re-asks included)",
         f"{report['n']} ({report.get('answers', report['n'])})"),
        ("Baseline (paid LLM only) average rating", report["baseline_avg_rating"]),
        ("First 20 % of the stream, average rating", report["first_window_avg_rating"]),
        ("Last 20 % of the stream, average rating", report["last_window_avg_rating"]),
        ("Rating lift (last window / baseline)", report["rating_lift"]),
        ("No paid call (last window)", report["no_paid_call_share"]),
        ("Cost ratio (stream / baseline)", report["cost_ratio"]),
        ("Cost ratio, last window", report.get("cost_ratio_last_window")),
        ("Cost ratio (stream / plain RAG, the knowledge base in every prompt)",
         f"{report.get('cost_ratio_vs_plain_rag')} (plain RAG rating "
         f"{report.get('plain_rag_avg_rating')})"),
        ("Judge calls (yes/no, counted in every cost above)", report.get("judge_calls")),
        ("Prompt tokens per paid call / per bare call (ratio)",
         f"{_rounded(report.get('prompt_tokens_per_paid_call'))} / "
         f"{_rounded(report.get('baseline_prompt_tokens_per_call'))} "
         f"({report.get('prompt_tokens_ratio')})"),
        ("Cache answers / false-hit rate", f"{report['cache_answers']} / "
         f"{report['cache_false_hit_rate']}"),
        ("Probe average rating (baseline)", f"{report['probe_avg_rating']} "
         f"({report['baseline_probe_avg_rating']})"),
        ("Probe rating lift", report["probe_rating_lift"]),
        ("Probe no paid call", report["probe_no_paid_call_share"]),
        ("Probe cache answers / false-hit rate", f"{report['probe_cache_answers']} / "
         f"{report['probe_false_hit_rate']}"),
        ("Response time p50 / p95, s", f"{report['p50_response_time']} / "
         f"{report['p95_response_time']}"),
    ]  # fmt: skip
    if report.get("local_answers"):
        rows += [
            ("Local model: answers / share of the last window",
             f"{report['local_answers']} / {report['local_answer_share']}"),
            ("Local answers' rating / the matcher's best candidate verbatim (same questions)",
             f"{report['local_avg_rating_where_compared']} / "
             f"{report['local_baseline_avg_rating']}"),
            ("Local answers stating an unsourced figure", report["local_ungrounded_rate"]),
        ]  # fmt: skip
    if "implicit" in report:
        said = report["implicit"]
        rows.append(
            (
                "Re-asks / requests for a person / thanks (residents' next messages)",
                f"{said['re_asks']} / {said['requests_for_a_person']} / {said['thanks']}",
            )
        )
        rows.append(
            (
                "Operator corrections / saboteur conversations",
                f"{said['corrections']} / {said['saboteur_conversations']}",
            )
        )
    if "last_window_avg_rating_by_pass" in report:
        rows.append(("Last-window rating by pass", report["last_window_avg_rating_by_pass"]))
    if "local_model" in report:
        local = report["local_model"]
        kind = "full fine-tuning" if local.get("full_fine_tuning") else "LoRA"
        base = local.get("base", "tiny-gpt2")
        trained = f"{base} ({kind}) on {local['samples']} exported dialogs"
        when = f"activated at question {local['activated_at_question']} after {local['seconds']} s"
        answered = f"{local['local_answers']} ({local['local_answers_avg_rating']})"
        paid = f"{local['paid_calls_after']} of {local['questions_after']} questions"
        rows.append(("Local model", f"{trained}, {when}"))
        rows.append(
            ("After activation: local answers (avg rating) / paid calls", f"{answered} / {paid}")
        )
    lines = [
        "# Self-learning benchmark",
        "",
        f"Dataset `{Path(report['dataset']).name}`, seed {report['seed']}, "
        f"{report['intents']} intents. Protocol: {report.get('protocol', 'generous')}.",
        "",
        "| measure | value |",
        "|---|---|",
    ]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += retraining_runs_table(report)
    return "\n".join(lines) + "\n\n![rating and cost over the stream](curves.png)\n"


def retraining_runs_table(report: dict) -> list[str]:
    """``--local auto``: each run the service started, and what the gate decided."""
    if "retraining_runs" not in report:
        return []
    lines = ["", f"Local model: {report['local_mode']}.", ""]
    if not report["retraining_runs"]:
        return [*lines, "The service started no retraining run during the stream."]
    lines += ["| run | queued at question | samples | minutes | outcome | gate |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    lines += [
        f"| {r['run_id']} | {r['queued_at_question']} | {r['samples']} | {r['minutes']} | "
        f"{r['status']} | {'; '.join(r['gate'])} |"
        for r in report["retraining_runs"]
    ]
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--passes", type=int, default=1, help="run the stream this many times")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "self_learning")
    parser.add_argument(
        "--local-model-at",
        type=int,
        default=0,
        help="after this many stream questions, fine-tune and activate a local model (0: off)",
    )
    parser.add_argument("--local-base", default=None, help="base model for that (default: tiny)")
    parser.add_argument("--local-steps", type=int, default=300)
    parser.add_argument(
        "--local-full", action="store_true", help="train all weights of --local-base, not LoRA"
    )
    parser.add_argument("--local-learning-rate", type=float, default=None)
    parser.add_argument(
        "--local",
        choices=["off", "auto"],
        default="off",
        help="auto: the service's own automation trains, gates and serves a local model "
        "(benchmarks/local_auto.py)",
    )
    parser.add_argument(
        "--rating-probability", type=float, default=0.6, help="share of answers residents rate"
    )
    parser.add_argument(
        "--implicit",
        action="store_true",
        help="residents re-ask, ask for a person or thank (benchmarks/implicit_resident.py)",
    )
    parser.add_argument(
        "--operator-probability",
        type=float,
        default=0.1,
        help="with --implicit: share of re-asked or escalated answers an operator corrects",
    )
    parser.add_argument(
        "--adversary",
        type=float,
        default=0.0,
        help="with --implicit: share of saboteur conversations",
    )
    parser.add_argument(
        "--retrain-every",
        type=int,
        default=400,
        help="with --local auto: RETRAINING_EVERY_NEW_SAMPLES of the service",
    )
    return parser.parse_args(argv)


@dataclass
class Runs:
    """What both arms answered, and what the paid model billed along the way."""

    baseline_stream: list = field(default_factory=list)
    baseline_probe: list = field(default_factory=list)
    baseline_costs: list[float] = field(default_factory=list)
    baseline_stream_cost: float = 0.0
    passes: list[list] = field(default_factory=list)
    learning_costs: list[float] = field(default_factory=list)
    learning_stream_cost: float = 0.0
    probe: list = field(default_factory=list)
    local_step: object | None = None
    #: ``--local auto``: the service's retraining runs as the stream met them.
    watch: RetrainingWatch | None = None
    verified: dict = field(default_factory=dict)
    #: At the end: the stream phrasings the cache would serve, and why not the others.
    coverage: dict = field(default_factory=dict)
    #: Paid calls and prompt tokens of each arm over its stream (probe left out).
    baseline_calls: tuple[int, int] = (0, 0)
    learning_calls: tuple[int, int] = (0, 0)
    #: ``--implicit``: the residents of each arm (same behaviour, same seed).
    residents: Residents | None = None
    baseline_residents: Residents | None = None
    #: Plain RAG (the knowledge base in every prompt) over the stream: cost, paid calls,
    #: ratings.
    rag_stream_cost: float = 0.0
    rag_ratings: list[int] = field(default_factory=list)
    #: The service's verifier at the end (``GET /api/voice/verifier``).
    verifier: dict = field(default_factory=dict)
    judge_calls: int = 0


def run_baseline(llm, baseline, stream, probe, progress, runs: Runs) -> None:
    """The paid LLM alone, on the same stream and probe (``--implicit``: talked to by
    residents who behave alike, so re-asks and thanks are billed to it too)."""
    task = progress.add_task("baseline (paid LLM only)", total=len(stream) + len(probe))
    for question in stream:
        if runs.baseline_residents is not None:
            outcomes = runs.baseline_residents.talk(
                baseline, question.intent, question.text, question.new_session
            )
        else:
            outcomes = [baseline.ask(question)]
        for outcome in outcomes:
            runs.baseline_stream.append(outcome)
            runs.baseline_costs.append(llm.bills["baseline"].cost_usd)
        progress.advance(task)
    runs.baseline_stream_cost = llm.bills["baseline"].cost_usd
    runs.baseline_calls = (llm.bills["baseline"].calls, llm.bills["baseline"].prompt_tokens)
    for question in probe:
        runs.baseline_probe.append(baseline.ask(question))
        progress.advance(task)


def run_plain_rag(llm, rag: "BaselineArm", stream, progress, runs: Runs) -> None:
    """The paid model with the whole knowledge base in every prompt, on the same stream."""
    task = progress.add_task("plain RAG (knowledge base in every prompt)", total=len(stream))
    for question in stream:
        runs.rag_ratings.append(rag.ask(question).rating)
        progress.advance(task)
    runs.rag_stream_cost = llm.bills["rag"].cost_usd


def run_learning(args, llm, service, arm, stream, probe, progress, runs: Runs) -> None:
    """The service learning from the stream (optionally given a local model part-way),
    then the probe without feedback."""
    for number in range(1, args.passes + 1):
        task = progress.add_task(f"self-learning stream, pass {number}", total=len(stream))
        outcomes = []
        for index, question in enumerate(stream):
            if number == 1 and index == args.local_model_at and args.local_model_at:
                progress.console.print("training and activating a local model …")
                runs.local_step = train_and_activate(
                    service.data_dir, arm.client, ADMIN_KEY, args.local_base, args.local_steps,
                    full=args.local_full, learning_rate=args.local_learning_rate,
                )  # fmt: skip
            if index and index % VERIFIER_TRAIN_EVERY == 0:
                arm.train_verifier()
            if runs.watch is not None and index % AUTO_CHECK_EVERY == 0:
                runs.watch.wait_for_open_runs(index, progress.console.print)
            if runs.residents is not None:
                answered = runs.residents.talk(
                    arm, question.intent, question.text, question.new_session
                )
            else:
                answered = [arm.ask(question, feedback=True)]
            for outcome in answered:
                outcomes.append(outcome)
                runs.learning_costs.append(llm.bills["learning"].cost_usd)
            progress.advance(task)
        runs.passes.append(outcomes)
    runs.learning_stream_cost = llm.bills["learning"].cost_usd
    runs.learning_calls = (llm.bills["learning"].calls, llm.bills["learning"].prompt_tokens)
    runs.judge_calls = llm.bills["learning"].judge_calls
    task = progress.add_task("probe (no feedback)", total=len(probe))
    for question in probe:
        runs.probe.append(arm.ask(question, feedback=False))
        progress.advance(task)
    runs.verified = arm.verified_answers_by_intent()
    runs.verifier = arm.verifier_status()
    stream_phrasings = sorted({(q.intent, q.text) for q in stream})
    runs.coverage = arm.cache_coverage(stream_phrasings)


def local_figures(outcomes: list[Outcome]) -> dict:
    """The local model's share of the last window, and over all its answers: its rating
    against the matcher's best candidate served verbatim, and unsourced figures."""
    window = window_of(outcomes)
    local = [o for o in outcomes if o.source == "local"]
    compared = [o for o in local if o.baseline_rating is not None]
    return {
        "local_answer_share": share(o.source == "local" for o in outcomes[-window:]),
        "local_answers": len(local),
        "local_avg_rating": mean(o.rating for o in local),
        "local_baseline_avg_rating": mean(o.baseline_rating for o in compared),
        "local_avg_rating_where_compared": mean(o.rating for o in compared),
        "local_ungrounded_rate": share(o.ungrounded for o in local),
    }


def local_model_report(args, runs: Runs) -> dict:
    after = runs.passes[0][args.local_model_at :]
    local = [o for o in after if o.source == "local"]
    return asdict(runs.local_step) | {
        "base": args.local_base or "tiny-gpt2 (built from scratch)",
        "full_fine_tuning": args.local_full or args.local_base is None,
        "activated_at_question": args.local_model_at,
        "questions_after": len(after),
        "local_answers": len(local),
        "local_answers_avg_rating": mean(o.rating for o in local),
        "paid_calls_after": sum(o.paid for o in after),
    }


def paid_call_figures(runs: Runs) -> dict:
    """What a paid call of the service costs against the baseline's bare one (its
    instructions and the question only), and the cost ratio over the last window."""
    last_pass = runs.learning_costs[-len(runs.passes[-1]) :]

    def spent_in_last_window(cumulative: list[float]) -> float:
        window = window_of(cumulative)
        return cumulative[-1] - (cumulative[-window - 1] if len(cumulative) > window else 0.0)

    def per_call(calls: tuple[int, int]) -> float | None:
        return calls[1] / calls[0] if calls[0] else None

    return {
        "cost_ratio_last_window": ratio(
            spent_in_last_window(last_pass), spent_in_last_window(runs.baseline_costs)
        ),
        "prompt_tokens_per_paid_call": per_call(runs.learning_calls),
        "baseline_prompt_tokens_per_call": per_call(runs.baseline_calls),
        "prompt_tokens_ratio": ratio(per_call(runs.learning_calls), per_call(runs.baseline_calls)),
    }


def write_outputs(args, report: dict, runs: Runs) -> None:
    """report.json, report.md, the trace and the curves."""
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / "report.md").write_text(render_markdown(report), encoding="utf-8")
    with (args.out / "trace.jsonl").open("w", encoding="utf-8") as trace:
        for phase, outcomes in [*((f"pass{i + 1}", p) for i, p in enumerate(runs.passes)),
                                ("probe", runs.probe)]:  # fmt: skip
            for outcome in outcomes:
                trace.write(json.dumps({"phase": phase} | asdict(outcome), ensure_ascii=False))
                trace.write("\n")
    plot_curves(
        args.out / "curves.png",
        runs.passes,
        runs.baseline_stream,
        {
            "learning": runs.learning_costs,
            "baseline": [
                cost + number * runs.baseline_stream_cost
                for number in range(args.passes)
                for cost in runs.baseline_costs
            ],
        },
    )


def protocol_of(args: argparse.Namespace) -> str:
    if not args.implicit:
        return f"generous: {args.rating_probability:g} of answers rated"
    return (
        f"realistic: {args.rating_probability:g} of answers rated, implicit signals, "
        f"operator corrects {args.operator_probability:g} of re-asked or escalated answers, "
        f"{args.adversary:g} of conversations saboteurs"
    )


def full_report(args, stream, runs: Runs) -> dict:
    bills = {
        "learning_stream": runs.learning_stream_cost / args.passes,
        "baseline_stream": runs.baseline_stream_cost,
    }
    report = build_report(
        args, stream, runs.passes, runs.probe, runs.baseline_stream, runs.baseline_probe, bills
    )
    report |= paid_call_figures(runs)
    report |= local_figures(runs.passes[-1])
    if runs.local_step is not None:
        report["local_model"] = local_model_report(args, runs)
    if runs.watch is not None:
        report["local_mode"] = (
            f"auto ({args.local_base or 'gemma3-270m'}, {args.local_steps} steps per run)"
        )
        report["retraining_runs"] = runs.watch.report()
    report["protocol"] = protocol_of(args)
    if runs.residents is not None:
        report["implicit"] = asdict(runs.residents.counts)
    report |= plain_rag_figures(args, runs)
    report["cache_coverage_of_stream_phrasings"] = runs.coverage
    report["verified_answers"] = sum(runs.verified.values())
    report["intents_with_verified_answers"] = len(runs.verified)
    return report


def plain_rag_figures(args, runs: Runs) -> dict:
    """Cost against what a team would deploy instead: the paid model with the knowledge
    base in every prompt, same stream, same simulated model; and the judge's share."""
    learning = runs.learning_stream_cost / args.passes
    active = runs.verifier.get("active") or {}
    return {
        "plain_rag_stream_cost_usd": round(runs.rag_stream_cost, 6),
        "plain_rag_avg_rating": mean(runs.rag_ratings),
        "cost_ratio_vs_plain_rag": ratio(learning, runs.rag_stream_cost),
        "judge_calls": runs.judge_calls,
        "verifier_version": active.get("id"),
        "verifier_held_out": active.get("held_out"),
    }


def behaviour_of(args: argparse.Namespace) -> Behaviour:
    return Behaviour(
        rating_probability=args.rating_probability,
        implicit=args.implicit,
        operator_probability=args.operator_probability if args.implicit else 0.0,
        adversary=args.adversary if args.implicit else 0.0,
    )


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    console = Console()
    intents = load_intents(args.dataset)
    split = split_phrasings(intents, args.seed)
    stream = draw_stream(intents, split, args.n, random.Random(args.seed))
    probe = probe_questions(intents, split)

    llm = SimulatedLLM(intents, seed=args.seed).start()
    auto = args.local == "auto"
    local_base = args.local_base or "gemma3-270m"
    extra = auto_env(local_base, args.local_steps, args.retrain_every) if auto else {}
    service = ServiceProcess(service_env(llm.base_url) | extra)
    runs = Runs()
    if args.implicit:
        phrasings = [[item.questions[p] for p in split[i][0]] for i, item in enumerate(intents)]
        runs.residents = Residents(behaviour_of(args), phrasings, args.seed + 2)
        runs.baseline_residents = Residents(behaviour_of(args), phrasings, args.seed + 2)
    try:
        with Progress(console=console) as progress:
            run_baseline(llm, BaselineArm(llm.base_url, intents), stream, probe, progress, runs)
            rag = BaselineArm(llm.base_url, intents, KNOWLEDGE_TEXT, key="rag")
            run_plain_rag(llm, rag, stream, progress, runs)
            service.wait_ready()
            arm = LearningArm(
                service.base_url, intents, random.Random(args.seed + 1), behaviour_of(args)
            )
            runs.watch = RetrainingWatch(arm.client, ADMIN_KEY) if auto else None
            run_learning(args, llm, service, arm, stream, probe, progress, runs)
    finally:
        service.stop()
        llm.stop()

    report = full_report(args, stream, runs)
    write_outputs(args, report, runs)
    table = Table(title="self-learning benchmark")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in report.items():
        table.add_row(key, str(value))
    console.print(table)
    console.print(f"report written to {args.out}")
    return report


if __name__ == "__main__":
    main()
