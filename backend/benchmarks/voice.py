"""Spoken questions against typed ones, on the running service.

    python -m benchmarks.voice [--per-intent 10] [--out DIR]

Every dev question (``--per-intent`` phrasings of each intent) is read aloud by Festival's
Russian voice, sent to ``POST /api/voice/process`` as a recording at 16 kHz (webm/opus, as a
browser records) and at telephone band 8 kHz (wav), and typed as text, each in a
conversation of its own, to a fresh service on an embedded database (answers from the
knowledge base: no paid model, so an answer depends on the question alone). Reported:

* word error rate of the transcripts (``jiwer``; lower case, no punctuation, ё = е);
* the share of spoken questions answered from the same source with the same text as the
  typed one — overall, and among those heard word for word (which tells recognition errors
  from answering differences) — and the share with the same source only;
* the latency a spoken turn adds over the typed one (the same question's two HTTP round
  trips), p50 / p95, and Festival's time to speak the answer (what a spoken answer would add).

Targets: WER ≤ 10 % at 16 kHz and ≤ 15 % at 8 kHz; same answer ≥ 90 %; added latency
p95 ≤ 2.5 s on 2 cores. Writes ``DIR/voice.json`` and ``DIR/voice.md``.
"""

import argparse
import json
import re
import shutil
import time
from pathlib import Path

import httpx
import jiwer
import numpy as np
from rich.progress import Progress

from app.voice.synthesis import FestivalSynthesizer
from benchmarks.dataset import DEFAULT_DATASET, RESULTS_DIR, load_intents
from benchmarks.service import ServiceProcess
from tests.support.speech import spoken

BANDS = {"16 kHz webm/opus": (16_000, "webm"), "8 kHz wav": (8_000, "wav")}
TARGETS = {"16 kHz webm/opus": 0.10, "8 kHz wav": 0.15}
_PUNCTUATION = re.compile(r"[^\w\s-]")


def normalised(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", text.lower().replace("ё", "е")).split())


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def speak_time(text: str) -> float:
    """Seconds Festival takes to read ``text`` aloud (an answer, as speech out would)."""
    started = time.perf_counter()
    FestivalSynthesizer().synthesize(text)
    return time.perf_counter() - started


class Resident:
    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=120)
        self.turns = 0

    def _headers(self) -> dict[str, str]:
        self.turns += 1
        return {"X-Forwarded-For": f"10.9.{self.turns >> 8 & 255}.{self.turns & 255}"}

    def typed(self, text: str) -> tuple[dict, float]:
        started = time.perf_counter()
        response = self.client.post("/api/voice/process", json={"message": text},
                                    headers=self._headers())  # fmt: skip
        response.raise_for_status()
        return response.json(), time.perf_counter() - started

    def spoken(self, audio: bytes, fmt: str) -> tuple[dict | None, float]:
        started = time.perf_counter()
        response = self.client.post("/api/voice/process", files={"audio": (f"q.{fmt}", audio)},
                                    headers=self._headers())  # fmt: skip
        elapsed = time.perf_counter() - started
        return (response.json() if response.status_code == 200 else None), elapsed


def measure(resident: Resident, questions: list[str], progress: Progress) -> dict:
    results: dict = {
        band: {"refs": [], "hyps": [], "same": [], "same_source": [], "added": []} for band in BANDS
    }
    speaking: list[float] = []
    task = progress.add_task("questions (typed, 16 kHz, 8 kHz)", total=len(questions))
    for question in questions:
        typed, typed_seconds = resident.typed(question)
        speaking.append(speak_time(typed["response"]))
        for band, (rate, fmt) in BANDS.items():
            heard, seconds = resident.spoken(spoken(question, rate=rate, fmt=fmt), fmt)
            band_results = results[band]
            band_results["refs"].append(normalised(question))
            band_results["hyps"].append(normalised(heard["transcript"]) if heard else "")
            band_results["same"].append(
                heard is not None
                and heard["answer_source"] == typed["answer_source"]
                and heard["response"] == typed["response"]
            )
            band_results["same_source"].append(
                heard is not None and heard["answer_source"] == typed["answer_source"]
            )
            band_results["added"].append(seconds - typed_seconds)
        progress.advance(task)
    return {"bands": results, "speaking": speaking}


def share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def band_report(band: str, values: dict) -> dict:
    exact = [ref == hyp for ref, hyp in zip(values["refs"], values["hyps"], strict=True)]
    misheard = [(ref, hyp) for ref, hyp, ok in zip(values["refs"], values["hyps"], exact,
                                                    strict=True) if not ok]  # fmt: skip
    return {
        "wer": round(float(jiwer.wer(values["refs"], [h or "-" for h in values["hyps"]])), 4),
        "wer_target": TARGETS[band],
        "heard_word_for_word_share": share(exact),
        "same_answer_share": share(values["same"]),
        "same_answer_share_when_heard_word_for_word": share(
            [same for same, ok in zip(values["same"], exact, strict=True) if ok]
        ),
        "same_source_share": share(values["same_source"]),
        "refused": sum(1 for h in values["hyps"] if not h),
        "added_latency_p50_s": percentile(values["added"], 50),
        "added_latency_p95_s": percentile(values["added"], 95),
        "misheard_examples": [{"said": ref, "heard": hyp} for ref, hyp in misheard[:20]],
    }


def report_of(measured: dict, questions: int) -> dict:
    bands = {band: band_report(band, values) for band, values in measured["bands"].items()}
    return {
        "questions": questions,
        "bands": bands,
        "speaking_answer_p50_s": percentile(measured["speaking"], 50),
        "speaking_answer_p95_s": percentile(measured["speaking"], 95),
        "targets": {"same_answer_share": 0.9, "added_latency_p95_s": 2.5},
    }


def render_markdown(report: dict) -> str:
    lines = [
        "# Spoken questions against typed ones",
        "",
        f"{report['questions']} dev questions, Festival's voice, the bundled Whisper base.",
        "",
        "| band | WER (target) | heard word for word | same answer as typed (≥ 0.9) | "
        "… when heard word for word | same source | refused | added latency p50 / p95 s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for band, b in report["bands"].items():
        lines.append(
            f"| {band} | {b['wer']:.3f} (≤ {b['wer_target']}) | "
            f"{b['heard_word_for_word_share']} | {b['same_answer_share']} | "
            f"{b['same_answer_share_when_heard_word_for_word']} | {b['same_source_share']} | "
            f"{b['refused']} | {b['added_latency_p50_s']} / {b['added_latency_p95_s']} |"
        )
    lines += [
        "",
        f"Festival speaking the answer: p50 {report['speaking_answer_p50_s']} s, "
        f"p95 {report['speaking_answer_p95_s']} s.",
        "",
        "Misheard (16 kHz), said → heard:",
        "",
    ]
    first_band = next(iter(report["bands"].values()))
    lines += [f"* {e['said']} → {e['heard']}" for e in first_band["misheard_examples"][:10]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--per-intent", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if shutil.which("text2wave") is None:
        parser.error("needs Debian's festival and festvox-ru: apt-get install festival festvox-ru")
    questions = [q for i in load_intents(args.dataset) for q in i.questions[: args.per_intent]]
    service = ServiceProcess({"RATE_LIMIT_CLIENT_PER_MINUTE": "0",
                              "RATE_LIMIT_SESSION_PER_MINUTE": "0",
                              "FORWARDED_ALLOW_IPS": "127.0.0.1"}).wait_ready()  # fmt: skip
    try:
        with Progress() as progress:
            measured = measure(Resident(service.base_url), questions, progress)
    finally:
        service.stop()
    report = report_of(measured, len(questions))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "voice.json").write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    (args.out / "voice.md").write_text(render_markdown(report), encoding="utf-8")
    print(render_markdown(report))
    return report


if __name__ == "__main__":
    main()
