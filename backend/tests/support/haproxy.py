"""HAProxy running the shipped ``deploy/haproxy/haproxy.cfg`` in front of replicas on
127.0.0.1 (Debian's haproxy): the cluster tests and ``benchmarks/cluster.py`` use it."""

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

from app.core.paths import BACKEND_DIR
from tests.support.network import free_port

HAPROXY_CONFIG = BACKEND_DIR / "deploy" / "haproxy" / "haproxy.cfg"


class Balancer:
    """HAProxy running ``deploy/haproxy/haproxy.cfg``, its addresses given through the
    variables the file reads, its runtime socket in ``directory``."""

    def __init__(self, replica_ports: list[int], directory: Path) -> None:
        self.port = free_port()
        self.replicas = len(replica_ports)
        self.url = f"http://127.0.0.1:{self.port}"
        self.socket_path = directory / "haproxy.sock"
        env = {
            "VASDOM_LB_BIND": f"127.0.0.1:{self.port}",
            "VASDOM_LB_SOCKET": str(self.socket_path),
        }
        env |= {f"VASDOM_API{n + 1}": f"127.0.0.1:{port}" for n, port in enumerate(replica_ports)}
        self._log = (directory / "haproxy.log").open("w")
        self.process = subprocess.Popen(
            ["haproxy", "-db", "-f", str(HAPROXY_CONFIG)],
            env=dict(os.environ) | env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as connection:
            connection.connect(str(self.socket_path))
            connection.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := connection.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stat(self, server: str) -> dict[str, str]:
        """The server's line of ``show stat`` (CSV, first line its header)."""
        lines = self.command("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            values = dict(zip(header, line.split(","), strict=False))
            if values.get("pxname") == "api" and values.get("svname") == server:
                return values
        raise LookupError(server)

    def set_state(self, server: str, state: str) -> None:
        self.command(f"set server api/{server} state {state}")

    def wait_up(self, server: str, timeout: float = 60) -> None:
        self._wait(lambda: self.stat(server)["status"] == "UP", timeout, f"{server} up")

    def wait_idle(self, server: str, timeout: float = 60) -> None:
        self._wait(lambda: self.stat(server)["scur"] == "0", timeout, f"{server} idle")

    def wait_all_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        for number in range(1, self.replicas + 1):
            self.wait_up(f"api{number}", timeout)
        httpx.get(f"{self.url}/api/voice/health/ready", timeout=10).raise_for_status()

    @staticmethod
    def _wait(condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        raise TimeoutError(f"HAProxy: {what} not within {timeout:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._log.close()
