"""The simulated paid LLM (``traffic.PaidLLM``) in a process of its own.

A load generator driving hundreds of residents holds its process's GIL most of the time; a
simulated model answering from a thread of that process would answer late, and the service
would be measured waiting for it. In its own process it answers after its latency.

    python -m benchmarks.paid_llm_process --latency 0.2     # prints its base URL, serves
"""

import argparse
import subprocess
import sys
import time

from benchmarks.dataset import BACKEND_DIR
from benchmarks.traffic import PaidLLM


class PaidLLMProcess:
    def __init__(self, latency: float = 0.2) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.paid_llm_process", "--latency", str(latency)],
            cwd=BACKEND_DIR, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the simulated paid LLM did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    llm = PaidLLM(latency=args.latency)
    print(llm.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        llm.stop()


if __name__ == "__main__":
    main()
