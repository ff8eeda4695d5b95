"""Hostile recordings against the running service: what they cost it in memory and time.

    python -m benchmarks.audio_abuse [--valid 8] [--out DIR]

Starts the service with its shipped defaults (its own embedded database, speech recognition
on) and uploads to ``POST /api/voice/process``, as an attacker would:

* a FLAC of constant frames filling ``MAX_AUDIO_BYTES`` (millions of seconds claimed);
* a WAV of ``MAX_AUDIO_BYTES`` declaring a 1 Hz sample rate (each sample resampled 16,000×);
* an SDP session description declared as ``audio/wav`` (FFmpeg's probe would open its RTP
  demuxer, bind the UDP ports it names and wait 20 s for packets);

first one at a time, then all three with ``--valid`` real spoken questions (Festival's
Russian, 16 kHz webm/opus, as a browser records) at once. Measured on the service process
(``/proc``): its peak resident size over idle during each upload (the kernel's high-water
mark, reset before each), each response's status and time, and the UDP ports bound while the
SDP upload was read (polled every 10 ms) — checked, not assumed. A valid question's own
growth is the baseline the bombs are compared with.

Targets: each bomb and the SDP file refused in ≤ 1 s, ≤ 300 MB over idle for any single
upload and ≤ 1 GB for all at once, no socket opened, every valid question answered or shed
(503), never lost. Writes ``DIR/audio_abuse.json`` and ``DIR/audio_abuse.md``; exits 1 when
a target is missed.
"""

import argparse
import concurrent.futures
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.core.config import Settings
from benchmarks.dataset import DEFAULT_DATASET, RESULTS_DIR, load_intents
from benchmarks.load import machine
from benchmarks.service import ServiceProcess
from tests.support.hostile_audio import bound_udp_ports, flac_bomb, sdp_file, wav_bomb
from tests.support.network import free_port
from tests.support.speech import spoken

OPERATOR_KEY = "audio-abuse-operator-key"
SINGLE_UPLOAD_MB = 300
ALL_AT_ONCE_MB = 1_000
REFUSED_WITHIN_S = 1.0


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    content_type: str
    hostile: bool


class Memory:
    """The service process's resident size, from ``/proc`` (the kernel's own counters)."""

    def __init__(self, pid: int) -> None:
        self.status = Path(f"/proc/{pid}/status")
        self.clear_refs = Path(f"/proc/{pid}/clear_refs")

    def _kib(self, field: str) -> int:
        for line in self.status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise LookupError(field)

    def rss_mb(self) -> float:
        return self._kib("VmRSS") / 1024

    def reset_peak(self) -> None:
        self.clear_refs.write_text("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)

    def peak_mb(self) -> float:
        return self._kib("VmHWM") / 1024


def uploads(valid: int, sdp_port: int) -> list[Upload]:
    max_bytes = Settings().max_audio_bytes
    hostile = [
        Upload("FLAC of constant frames", flac_bomb(max_bytes), "audio/flac", True),
        Upload("WAV at 1 Hz", wav_bomb(max_bytes, rate=1), "audio/wav", True),
        Upload("SDP as audio/wav", sdp_file(sdp_port), "audio/wav", True),
    ]
    questions = [i.questions[0] for i in load_intents(DEFAULT_DATASET)][:valid]
    spoken_questions = [
        Upload(f"spoken: {q}", spoken(q, rate=16_000, fmt="webm"), "audio/webm", False)
        for q in questions
    ]
    return hostile + spoken_questions


def send(base_url: str, upload: Upload, number: int) -> dict:
    started = time.perf_counter()
    try:
        response = httpx.post(
            f"{base_url}/api/voice/process",
            files={"audio": ("question", upload.data, upload.content_type)},
            headers={"X-Forwarded-For": f"10.77.0.{number}"},
            timeout=120,
        )
        status, body = response.status_code, response.json()
    except (httpx.HTTPError, ValueError) as error:
        status, body = 0, {"detail": f"no answer: {type(error).__name__}"}
    return {
        "upload": upload.name,
        "bytes": len(upload.data),
        "status": status,
        "seconds": round(time.perf_counter() - started, 3),
        "detail": body.get("detail") if status != 200 else None,
        "log_id": body.get("log_id") if status == 200 else None,
    }


class PortWatch:
    """UDP ports of ``ports`` seen bound on this machine while the watch runs."""

    def __init__(self, ports: set[int]) -> None:
        self.ports, self.seen = ports, set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._done.is_set():
            self.seen |= bound_udp_ports() & self.ports
            time.sleep(0.01)

    def __enter__(self) -> "PortWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.05)
        self._done.set()
        self._thread.join()


def one_at_a_time(base_url: str, memory: Memory, batch: list[Upload], idle_mb: float) -> list:
    results = []
    for number, upload in enumerate(batch):
        memory.reset_peak()
        result = send(base_url, upload, number + 1)
        result["peak_over_idle_mb"] = round(memory.peak_mb() - idle_mb, 1)
        results.append(result)
    return results


def all_at_once(base_url: str, memory: Memory, batch: list[Upload], idle_mb: float) -> dict:
    memory.reset_peak()
    with concurrent.futures.ThreadPoolExecutor(len(batch)) as pool:
        futures = [pool.submit(send, base_url, u, 100 + n) for n, u in enumerate(batch)]
        results = [future.result() for future in futures]
    return {"uploads": results, "peak_over_idle_mb": round(memory.peak_mb() - idle_mb, 1)}


def stored_log_ids(base_url: str) -> set[int]:
    operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    response = httpx.get(
        f"{base_url}/api/voice/logs", params={"limit": 200}, headers=operator, timeout=30
    )
    response.raise_for_status()
    return {int(item["log_id"]) for item in response.json()["items"]}


def verdict(report: dict) -> dict:
    single = report["one_at_a_time"]
    crowd = report["all_at_once"]["uploads"]
    hostile = [r for r in single + crowd if r["hostile"]]
    valid = [r for r in crowd if not r["hostile"]]
    stored = set(report["stored_log_ids"])
    return {
        "hostile_refused_within_1s": all(
            400 <= r["status"] < 500 and r["seconds"] <= REFUSED_WITHIN_S for r in hostile
        ),
        "single_upload_within_300mb": all(
            r["peak_over_idle_mb"] <= SINGLE_UPLOAD_MB for r in single
        ),
        "all_at_once_within_1gb": report["all_at_once"]["peak_over_idle_mb"] <= ALL_AT_ONCE_MB,
        "no_socket_opened": not report["udp_ports_bound"],
        "valid_answered_or_shed": all(r["status"] in (200, 503) for r in valid),
        "answered_valid_stored": all(r["log_id"] in stored for r in valid if r["status"] == 200),
    }


def run(valid: int) -> dict:
    sdp_port = free_port()
    batch = uploads(valid, sdp_port)
    hostile_names = {u.name for u in batch if u.hostile}
    service = ServiceProcess({"ADMIN_API_KEY": OPERATOR_KEY}).wait_ready()
    try:
        memory = Memory(service.process.pid)
        # Warm: the recogniser loads on the first spoken question.
        warm = send(service.base_url, batch[-1], 250)
        time.sleep(1)
        idle_mb = memory.rss_mb()
        with PortWatch({sdp_port, sdp_port + 1}) as ports:
            single = one_at_a_time(service.base_url, memory, batch[:3] + batch[3:4], idle_mb)
            crowd = all_at_once(service.base_url, memory, batch, idle_mb)
        stored = stored_log_ids(service.base_url)
    finally:
        service.stop()
    for result in [*single, *crowd["uploads"]]:
        result["hostile"] = result["upload"] in hostile_names
    report = {
        "machine": machine(),
        "max_audio_bytes": Settings().max_audio_bytes,
        "max_audio_seconds": Settings().max_audio_seconds,
        "warm_up_status": warm["status"],
        "idle_rss_mb": round(idle_mb, 1),
        "one_at_a_time": single,
        "all_at_once": crowd,
        "udp_ports_bound": sorted(ports.seen),
        "stored_log_ids": sorted(stored),
    }
    report["targets"] = verdict(report)
    return report


def render_markdown(report: dict) -> str:
    lines = [
        "# Hostile recordings: memory and time they cost the service",
        "",
        f"{report['machine']}. Shipped defaults: MAX_AUDIO_BYTES {report['max_audio_bytes']:,}, "
        f"MAX_AUDIO_SECONDS {report['max_audio_seconds']:g}. Service idle at "
        f"{report['idle_rss_mb']} MB resident (recogniser loaded).",
        "",
        "## One at a time",
        "",
        "| upload | bytes | status | seconds | peak over idle (MB) |",
        "|---|---|---|---|---|",
    ]
    for r in report["one_at_a_time"]:
        lines.append(f"| {r['upload']} | {r['bytes']:,} | {r['status']} | {r['seconds']} | "
                     f"{r['peak_over_idle_mb']} |")  # fmt: skip
    crowd = report["all_at_once"]
    lines += [
        "",
        f"## All at once ({len(crowd['uploads'])} uploads): peak over idle "
        f"**{crowd['peak_over_idle_mb']} MB**",
        "",
        "| upload | status | seconds | detail |",
        "|---|---|---|---|",
    ]
    for r in crowd["uploads"]:
        lines.append(f"| {r['upload']} | {r['status']} | {r['seconds']} | {r['detail'] or ''} |")
    bound = report["udp_ports_bound"] or "none"
    lines += ["", f"UDP ports bound while the uploads were read: {bound}.", "", "## Targets", ""]
    lines += [f"- {name}: **{'yes' if ok else 'NO'}**" for name, ok in report["targets"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--valid", type=int, default=8, help="spoken questions sent with them")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)

    report = run(args.valid)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "audio_abuse.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
    (args.out / "audio_abuse.md").write_text(render_markdown(report), encoding="utf-8")
    print(render_markdown(report))
    if not all(report["targets"].values()):
        raise SystemExit(1)
    return report


if __name__ == "__main__":
    main()
