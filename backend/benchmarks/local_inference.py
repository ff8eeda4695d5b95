"""How fast the local model answers on this machine, per engine: the numbers behind
``LOCAL_INFERENCE_ENGINE``.

    python -m benchmarks.local_inference [--models gemma3-270m,smollm2-135m-instruct]
                                         [--questions 20] [--max-new-tokens 48] [--out DIR]

For each bundled base model, the very providers the service answers with —
CTranslate2 on int8 weights converted once, and Transformers on the weights as they are —
answer the same prompts in the service's own form (a dev question, the right approved
answer and two other answers as examples): model load time, first-token time (an answer
of one token: the whole prompt read), tokens per second and answer time at
``--max-new-tokens``, and how often the two engines wrote the same answer. Both run in
the same process, one after the other, so the ratio holds on a busy machine.
Writes ``DIR/local_inference.json`` and ``DIR/local_inference.md``.
"""

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console

from app.llm.base import ProviderError
from app.llm.local_ctranslate2 import LocalCTranslate2Provider
from app.llm.local_transformers import LocalTransformersProvider
from app.llm.prompt import ApprovedExample, PromptContext
from app.model_versions.ctranslate2_conversion import convert_for_ctranslate2
from benchmarks.dataset import DEFAULT_DATASET, RESULTS_DIR, load_intents
from training.base_models import resolve_base_model

THREADS = 2


def prompts(count: int, seed: int = 7) -> list[PromptContext]:
    """Dev questions with the right approved answer among two others, shuffled."""
    intents = load_intents(DEFAULT_DATASET)
    rng = random.Random(seed)
    contexts = []
    for intent in rng.sample(intents, count):
        others = rng.sample([i for i in intents if i is not intent], 2)
        shown = [intent, *others]
        rng.shuffle(shown)
        examples = [
            ApprovedExample(str(n), i.questions[0], i.reference_answer, 0.9)
            for n, i in enumerate(shown)
        ]
        contexts.append(PromptContext(rng.choice(intent.questions), examples=examples))
    return contexts


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def measure(make, contexts: list[PromptContext], max_new_tokens: int) -> dict:
    """Load time, first-token time, and answers at full length."""
    started = time.monotonic()
    provider = make(max_new_tokens)
    load_seconds = time.monotonic() - started
    provider._max_new_tokens = 1
    first = [timed(provider, context)[0] for context in contexts]
    provider._max_new_tokens = max_new_tokens
    runs = [timed(provider, context) for context in contexts]
    seconds = [duration for duration, _ in runs]
    answered = [answer for _, answer in runs if answer is not None]
    tokens = sum(answer.completion_tokens for answer in answered)
    return {
        "load_seconds": round(load_seconds, 2),
        "first_token_p50_seconds": round(statistics.median(first), 3),
        "first_token_p95_seconds": round(p95(first), 3),
        "answer_p50_seconds": round(statistics.median(seconds), 3),
        "answer_p95_seconds": round(p95(seconds), 3),
        "tokens_per_second": round(tokens / sum(seconds), 1),
        "prompt_tokens_mean": round(statistics.mean(a.prompt_tokens for a in answered), 1),
        "answers": [answer.text if answer else "" for _, answer in runs],
    }


def timed(provider, context: PromptContext):
    """Seconds to answer, and the answer (None when it came out empty: a first token may
    be a line break)."""
    started = time.monotonic()
    try:
        answer = provider.answer(context)
    except ProviderError:
        answer = None
    return time.monotonic() - started, answer


def bench_model(name: str, contexts, max_new_tokens: int, work: Path) -> dict:
    source = str(resolve_base_model(name))
    manifest = convert_for_ctranslate2(source, work / name)
    fast = measure(
        lambda tokens: LocalCTranslate2Provider(
            str(work / name), max_new_tokens=tokens, threads=THREADS
        ),
        contexts,
        max_new_tokens,
    )
    import torch

    torch.set_num_threads(THREADS)
    slow = measure(
        lambda tokens: LocalTransformersProvider(source, max_new_tokens=tokens),
        contexts,
        max_new_tokens,
    )
    same = sum(a == b for a, b in zip(fast.pop("answers"), slow.pop("answers"), strict=True))
    return {
        "model": name,
        "conversion_seconds": manifest["conversion_seconds"],
        "ctranslate2_int8": fast,
        "transformers_float32": slow,
        "speedup_answer_p50": round(slow["answer_p50_seconds"] / fast["answer_p50_seconds"], 2),
        "speedup_first_token_p50": round(
            slow["first_token_p50_seconds"] / fast["first_token_p50_seconds"], 2
        ),
        "same_answer_share": round(same / len(contexts), 3),
    }


def render_markdown(rows: list[dict], args) -> str:
    lines = [
        "# Local model inference on this machine",
        "",
        f"`python -m benchmarks.local_inference` — {args.questions} prompts in the service's "
        f"form, answers of up to {args.max_new_tokens} tokens, {THREADS} threads, greedy.",
        "",
        "| model | engine | load s | first token p50 / p95 s | answer p50 / p95 s | tokens/s |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        for engine in ("ctranslate2_int8", "transformers_float32"):
            r = row[engine]
            lines.append(
                f"| {row['model']} | {engine} | {r['load_seconds']} | "
                f"{r['first_token_p50_seconds']} / {r['first_token_p95_seconds']} | "
                f"{r['answer_p50_seconds']} / {r['answer_p95_seconds']} | "
                f"{r['tokens_per_second']} |"
            )
    lines += ["", "| model | conversion s | speed-up (answer p50) | speed-up (first token) | "
              "same answer |", "|---|---|---|---|---|"]  # fmt: skip
    lines += [
        f"| {r['model']} | {r['conversion_seconds']} | {r['speedup_answer_p50']}× | "
        f"{r['speedup_first_token_p50']}× | {r['same_answer_share']:.0%} |"
        for r in rows
    ]
    lines += [
        "",
        "Tokens per second compare the engines. Answer times also differ by where generation "
        "stops: the CTranslate2 provider stops as soon as the model starts the resident's next "
        "turn, the Transformers one writes up to the limit and cuts there. Int8 weights change "
        "some greedy choices, hence answers that differ from float32 ones.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="gemma3-270m,smollm2-135m-instruct")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    contexts = prompts(args.questions)
    with tempfile.TemporaryDirectory(prefix="vdinfer") as work:
        rows = [
            bench_model(name, contexts, args.max_new_tokens, Path(work))
            for name in args.models.split(",")
        ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "local_inference.json").write_text(json.dumps(rows, indent=2))
    (args.out / "local_inference.md").write_text(render_markdown(rows, args))
    Console().print(render_markdown(rows, args))
    return rows


if __name__ == "__main__":
    main()
