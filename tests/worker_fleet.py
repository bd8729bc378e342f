"""Real `leveranse worker` processes for the multi-worker tests and benchmark: each worker talks to the
sandbox on a port of its own, so the sandbox's request log tells which worker asked for what."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from carriers.sandbox.server import SandboxServer

REPO = Path(__file__).resolve().parents[1]
WORKER = [sys.executable, "-c", "from app.cli.main import main; main()", "worker"]


@dataclass
class Worker:
    """One worker process and the sandbox port only it uses."""

    slot: int
    port: int
    process: subprocess.Popen
    log: Path

    def rss_mb(self) -> float | None:
        """Resident memory now (None once the process is gone)."""
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None


@dataclass
class WorkerFleet:
    """Starts, kills and stops workers against one database (`env`) and one in-process sandbox."""

    sandbox: SandboxServer
    env: dict[str, str]
    folder: Path
    workers: dict[int, Worker] = field(default_factory=dict)
    killed_ports: set[int] = field(default_factory=set)
    retired: list[Worker] = field(default_factory=list)

    def start(self, slot: int) -> Worker:
        """A new worker in `slot` on a fresh sandbox port."""
        port = self.sandbox.listen()
        log = self.folder / f"worker-{slot}-{port}.log"
        env = {
            **os.environ,
            **self.env,
            "LEVERANSE_SANDBOX_URL": f"http://127.0.0.1:{port}",
            "PYTHONUNBUFFERED": "1",  # a SIGKILLed worker's last lines are in its log too
        }
        with log.open("wb") as out:
            process = subprocess.Popen(WORKER, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        worker = Worker(slot, port, process, log)
        self.workers[slot] = worker
        return worker

    def wait_ready(self, seconds: float = 90) -> None:
        """Until every worker has scheduled its jobs."""
        deadline = time.monotonic() + seconds
        for worker in self.workers.values():
            while "jobs scheduled" not in worker.log.read_text(errors="replace"):
                if worker.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"worker {worker.slot} did not start:\n{self.tail(worker)}")
                time.sleep(0.1)

    def kill(self, slot: int) -> Worker:
        """SIGKILL the worker in `slot` (its port's calls count as the crashed worker's own)."""
        worker = self.workers.pop(slot)
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait()
        self.killed_ports.add(worker.port)
        self.retired.append(worker)
        return worker

    def stop(self) -> None:
        """Interrupt every worker (SIGINT, as Ctrl-C), killing any that hangs."""
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGINT)
        for worker in self.workers.values():
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        self.retired.extend(self.workers.values())
        self.workers = {}

    def check_alive(self) -> None:
        """Fail if a worker exited on its own."""
        for worker in self.workers.values():
            if worker.process.poll() is not None:
                raise AssertionError(f"worker {worker.slot} exited:\n{self.tail(worker)}")

    def logs(self) -> str:
        """Every worker's output, retired ones included."""
        return "\n".join(w.log.read_text(errors="replace") for w in [*self.retired, *self.workers.values()])

    @staticmethod
    def tail(worker: Worker, chars: int = 4000) -> str:
        """The end of one worker's output."""
        return worker.log.read_text(errors="replace")[-chars:]
