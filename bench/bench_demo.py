"""Benchmark: `crosstrack demo` wall time, split into its steps (target: <= 60 s in total).

Runs ``crosstrack demo --offline --ticks 3 --every 2`` three times as a user would (a new
process, a new work directory each time), reads the per-step timings the demo prints on
stderr (start, package, apply, ticks, stop) and reports the median of each. The original
system has no local run to compare against, so this benchmark has no baseline ratio; its
reference is the issue's 60 s target.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = 3
CROSSTRACK = Path(sys.executable).with_name("crosstrack")
STEPS = ("start", "package", "apply", "ticks", "stop")


def one_run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="crosstrack-bench-demo-") as workdir:
        started = time.monotonic()
        proc = subprocess.run(
            [
                str(CROSSTRACK),
                "demo",
                "--offline",
                "--ticks",
                "3",
                "--every",
                "2",
                "--workdir",
                workdir,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        total = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"crosstrack demo failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    match = re.search(r"^timings: (.*)$", proc.stderr, re.MULTILINE)
    if match is None:
        raise SystemExit("crosstrack demo printed no timings line")
    steps = {name: float(value) for name, value in re.findall(r"(\w+) ([\d.]+) s", match.group(1))}
    return {**steps, "total": total}


def main() -> None:
    runs = [one_run() for _ in range(RUNS)]
    medians = {
        key: round(statistics.median(r.get(key, 0.0) for r in runs), 1) for key in (*STEPS, "total")
    }
    result = {"runs": runs, "median_s": medians, "target_total_s": 60}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "demo.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        "| `crosstrack demo --offline --ticks 3` (median of 3) | "
        + " | ".join(STEPS)
        + " | total (process) |"
    )
    print("|---" * (len(STEPS) + 2) + "|")
    print(
        "| seconds | " + " | ".join(f"{medians[s]}" for s in STEPS) + f" | **{medians['total']}** |"
    )


if __name__ == "__main__":
    main()
