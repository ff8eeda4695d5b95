"""How export_logs scales: stream a million logged dialogs out of PostgreSQL.

    python -m benchmarks.export_logs [--rows 1000000] [--out DIR]

Fills a fresh embedded database with ``--rows`` rated dialogs (SQL ``generate_series``),
then measures, in the same run:

1. the database part alone: every candidate row streamed through the exporter's own
   server-side cursor (``training.export_logs._stream``), nothing else done with it;
2. the seed's command as users run it (``--max-samples 5000``, newest first), end to end:
   cleaning, PII scrubbing, writing, validation, statistics, the dataset row.

Peak memory is reported for both, to show the stream stays flat. Writes
``DIR/export_logs.json`` and ``DIR/export_logs.md``.
"""

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import and_, or_, text

from app.core.config import Settings
from app.db.database import Database
from app.db.embedded import control_embedded_postgres, start_embedded_postgres
from app.db.migrations import upgrade_to_head
from app.db.models import VoiceLog
from benchmarks.dataset import RESULTS_DIR
from training.exporting import ExportOptions, _stream, export

FILL = """
INSERT INTO voice_logs (session_id, user_message, ai_response, model_used, answer_source,
                        response_time, rating, created_at)
SELECT 'bench-' || (n % 5000),
       'Когда будет уборка в подъезде номер ' || n || '?',
       'Влажная уборка лестничных клеток проводится 2 раза в неделю, по вторникам и '
         || 'пятницам; подъезд ' || n || '.',
       'gpt-4o-mini', 'llm', 0.5, 4 + (n % 2),
       now() - (n % 43000) * interval '1 minute'
FROM generate_series(1, :rows) AS n
"""


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="vdexport"))
    try:
        url = start_embedded_postgres(directory, database="export_bench", stop_on_exit=False)
        upgrade_to_head(url)
        database = Database(url)
        settings = Settings(_env_file=None, DATABASE_URL=url, DATA_DIR=str(directory))
        started = time.perf_counter()
        with database.engine.begin() as conn:
            conn.execute(text(FILL), {"rows": args.rows})
        fill_seconds = time.perf_counter() - started

        where = and_(
            VoiceLog.created_at >= text("now() - interval '30 days'"),
            or_(VoiceLog.rating >= 4, VoiceLog.corrected_response.is_not(None)),
        )
        memory_before = peak_memory_mb()
        started = time.perf_counter()
        streamed = sum(1 for _ in _stream(database, settings, where, True))
        stream_seconds = time.perf_counter() - started
        stream_memory = peak_memory_mb()

        started = time.perf_counter()
        result = export(
            database, settings, ExportOptions(out_dir=directory / "out", max_samples=5000)
        )
        export_seconds = time.perf_counter() - started
        database.dispose()
    finally:
        control_embedded_postgres("stop", directory)
        shutil.rmtree(directory, ignore_errors=True)

    report = {
        "rows": args.rows,
        "fill_seconds": round(fill_seconds, 2),
        "stream_all_rows_seconds": round(stream_seconds, 2),
        "streamed_rows": streamed,
        "stream_rows_per_second": round(streamed / stream_seconds),
        "peak_memory_mb_before_stream": round(memory_before, 1),
        "peak_memory_mb_after_stream": round(stream_memory, 1),
        "seed_export_seconds": round(export_seconds, 2),
        "seed_export_samples": result.samples,
        "seed_export_candidates": result.stats["candidates"],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "export_logs.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    lines = ["# export_logs at scale", "", "| measure | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in report.items()]
    (args.out / "export_logs.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
