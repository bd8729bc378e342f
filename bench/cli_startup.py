"""Console script start-up: median wall time of `leveranse --help` and of an offline `carriers parse`.

Usage: python bench/cli_startup.py [--runs 7]
Each run is a fresh process, as a user's shell starts it; prints the median and the fastest run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "carriers" / "bring" / "in_transit_customs.json"
COMMANDS = {
    "leveranse --help": ["--help"],
    "leveranse carriers parse": ["carriers", "parse", "bring", str(FIXTURE)],
}


def leveranse() -> list[str]:
    """The console script installed next to this interpreter, else its entry point run by it."""
    script = Path(sys.executable).parent / "leveranse"
    return (
        [str(script)] if script.exists() else [sys.executable, "-c", "from app.cli.main import main; main()"]
    )


def time_command(command: list[str], runs: int) -> list[float]:
    """Wall seconds of each run; a failing run stops the benchmark."""
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        seconds.append(time.perf_counter() - began)
    return seconds


def main() -> None:
    """Run the benchmark and print one line per command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    script = leveranse()
    for label, arguments in COMMANDS.items():
        seconds = time_command([*script, *arguments], args.runs)
        print(f"{label:26s} median {statistics.median(seconds):.3f} s  fastest {min(seconds):.3f} s")


if __name__ == "__main__":
    main()
