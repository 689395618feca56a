"""Benchmark of wildcard matching: many stars against long values (issue 9, item 3).

    python bench/bench_wildcards.py

A policy's pattern is the policy author's, but the value it is matched against (an S3 key, a
condition value) is the caller's. With backtracking regular expressions, ``a*a*…a*b`` against
``aaaa…`` takes time exponential in the number of stars; crosstrack.iam matches in linear time.
Measured: the worst cases (no match, so every star is tried) for a plain glob (``StringLike``),
an ARN glob (``Resource``) and a case-insensitive action glob, each with 20 stars against a
1,024-character value, plus the issue's 9-star resource pattern. The target: every one under
1 ms. Each figure is the median of 9 runs of CPU time per match (one core, one process).
Writes bench/results/wildcards.json and prints a markdown table.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from crosstrack.iam.wildcards import compile_action_set, compile_arn, compile_glob

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "wildcards.json"
TARGET_MS = 1.0
RUNS = 9

STARS_20 = "a*" * 20 + "b"


def cases() -> list[tuple[str, str, int, Callable[[str], bool], str, bool]]:
    """(label, pattern, stars, compiled matcher, value, expected answer)."""
    key = "a" * 1024
    arn = "arn:aws:s3:::b/"
    issue = arn + "a*a*a*a*a*a*a*a*a*b"
    action = "s3:" + "A*" * 20 + "B"
    middle = "a*" * 10 + "c*" + "a*" * 9 + "b"  # fails only once the middle is searched
    return [
        ("StringLike, 20 stars", STARS_20, 20, compile_glob(STARS_20), key, False),
        ("StringLike, 20 stars", STARS_20, 20, compile_glob(STARS_20), key + "b", True),
        ("StringLike, 20 stars", middle, 20, compile_glob(middle), key + "b", False),
        ("Resource, 20 stars", arn + STARS_20, 20, compile_arn(arn + STARS_20), arn + key, False),
        ("Resource, 20 stars", arn + middle, 20, compile_arn(arn + middle), arn + key + "b", False),
        ("Resource, issue 9's pattern", issue, 9, compile_arn(issue), arn + key, False),
        ("Resource, issue 9's pattern", issue, 9, compile_arn(issue), arn + key + "b", True),
        ("Action, 20 stars", action, 20, compile_action_set((action,)), "s3:" + key + "b", True),
    ]


def per_match_ms(match: Callable[[str], bool], value: str) -> float:
    """CPU milliseconds per call, over enough calls to last ~50 ms (median of RUNS)."""
    loops = 1
    while True:
        start = time.process_time()
        for _ in range(loops):
            match(value)
        spent = time.process_time() - start
        if spent >= 0.05:
            break
        loops *= 4
    samples = []
    for _ in range(RUNS):
        start = time.process_time()
        for _ in range(loops):
            match(value)
        samples.append((time.process_time() - start) / loops * 1000)
    return statistics.median(samples)


def main() -> int:
    load_before = os.getloadavg()[0]
    rows = []
    for label, pattern, stars, match, value, expected in cases():
        if match(value) is not expected:
            raise SystemExit(f"{label}: wrong answer")
        ms = per_match_ms(match, value)
        rows.append(
            {
                "case": label,
                "pattern": pattern if len(pattern) < 60 else pattern[:57] + "...",
                "stars": stars,
                "matches": expected,
                "value_chars": len(value),
                "ms_per_match": round(ms, 4),
                "under_target": ms < TARGET_MS,
            }
        )
    result = {
        "benchmark": "crosstrack.iam wildcard matching, CPU ms per match (one core)",
        "target_ms": TARGET_MS,
        "python": sys.version.split()[0],
        "runs_per_figure": RUNS,  # the median is reported
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print("| wildcard match | stars | value chars | matches | ms per match |")
    print("|---|---:|---:|---|---:|")
    for row in rows:
        print(
            f"| {row['case']} | {row['stars']} | {row['value_chars']:,} | "
            f"{'yes' if row['matches'] else 'no'} | {row['ms_per_match']} |"
        )
    print(
        f"\nwritten to {RESULTS.relative_to(ROOT)}; target < {TARGET_MS} ms per match; load "
        f"average {result['load_average_1min_before']} before, {result['load_average_1min']} after"
    )
    return 0 if all(row["under_target"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
