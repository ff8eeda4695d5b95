"""The service as benchmarks run it: ``python -m app.cli serve`` in its own process on
127.0.0.1, with its log in a file, stopped the way an operator stops it."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.dataset import BACKEND_DIR
from tests.support.network import free_port


def wait_until_answering(
    url: str, timeout: float = 180, process: subprocess.Popen | None = None
) -> None:
    """Poll ``url`` until it answers 200; a ``process`` that exits first is an error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args} exited before {url} answered")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


class ServiceProcess:
    """One service process. Without ``DATABASE_URL`` in ``env`` it starts its own embedded
    database in a fresh temporary folder, which is removed on :meth:`stop`."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="vdbench"))
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        inherited = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "OPENAI_API_KEY", "EMERGENT_LLM_KEY"}
        }
        # A file, not a pipe: nobody reads a pipe while a benchmark runs, and a full one
        # would stall the service on its next log line.
        self.log_path = self.data_dir / "service.log"
        self._log = self.log_path.open("w", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            cwd=BACKEND_DIR,
            env=inherited | {"DATA_DIR": str(self.data_dir), "LOG_LEVEL": "WARNING"} | env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_ready(self, timeout: float = 180) -> "ServiceProcess":
        try:
            wait_until_answering(f"{self.base_url}/api/voice/health", timeout, self.process)
        except RuntimeError as error:
            raise RuntimeError(f"{error}:\n{self.log_path.read_text()[-5000:]}") from error
        return self

    def stop(self, keep_log: Path | None = None) -> None:
        """Stop the service; ``keep_log`` saves its log before the folder goes."""
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()
        if keep_log is not None:
            shutil.copyfile(self.log_path, keep_log)
        # An embedded server stops with the last process attached to it: the service.
        shutil.rmtree(self.data_dir, ignore_errors=True)
