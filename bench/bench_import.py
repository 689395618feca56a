"""Benchmark 4: cold import time of the Lambda handler module.

Each sample is a fresh interpreter (``python -X importtime -c 'import M'``), as a Lambda
cold start is; the figure is the cumulative import time Python itself reports for the
module, so interpreter start-up is excluded. The baseline is what the original function
imported at cold start (boto3, urllib3, json, datetime, os), measured the same way in the
same run, for a ratio.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = 15
CANDIDATE = "crosstrack.reporter.handler"
BASELINE = "boto3, urllib3, json, datetime, os"


def import_us(modules: str) -> int:
    """Cumulative import time in microseconds of ``import <modules>`` in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {modules}"],
        capture_output=True,
        text=True,
        check=True,
    )
    wanted = {m.strip() for m in modules.split(",")}
    total = 0
    for line in proc.stderr.splitlines():
        # "import time: self [us] | cumulative | imported package"; only the rows of the
        # modules asked for count, so interpreter start-up (site, encodings) is excluded.
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() in wanted and parts[1].strip().isdigit():
            total += int(parts[1])
    return total


def main() -> None:
    ours: list[int] = []
    base: list[int] = []
    for _ in range(SAMPLES):  # interleaved, so machine drift hits both alike
        ours.append(import_us(CANDIDATE))
        base.append(import_us(BASELINE))
    result = {
        "samples": SAMPLES,
        "crosstrack_ms_median": round(statistics.median(ours) / 1000, 1),
        "baseline_ms_median": round(statistics.median(base) / 1000, 1),
    }
    result["ratio"] = round(result["crosstrack_ms_median"] / result["baseline_ms_median"], 2)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "import.json").write_text(json.dumps(result, indent=2) + "\n")
    print("| cold import (median of 15 interpreters) | crosstrack | original's imports | ratio |")
    print("|---|---|---|---|")
    print(
        f"| `import {CANDIDATE}` vs `import {BASELINE}` | {result['crosstrack_ms_median']} ms "
        f"| {result['baseline_ms_median']} ms | {result['ratio']} |"
    )


if __name__ == "__main__":
    main()
