"""Benchmark: `crosstrack map` of 10,000 records renders in under 2 s (issue 13).

The records are the ISS every minute for ~7 days from the bundled TLE (the reporter's
offline source), as a JSON Lines log. Timed: parsing the log and rendering the 1600x900
PNG (median of 3, after one warm-up render that loads matplotlib and the map data). The
naive baseline draws the same track with one ``plot()`` call per segment, as a first
attempt with matplotlib would.

    python bench/bench_map.py     # prints a markdown table, writes bench/results/map.json
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crosstrack.logbook.records import parse_log
from crosstrack.logbook.worldmap import render_map
from crosstrack.reporter.ledger import format_jsonl_record
from crosstrack.reporter.positions import offline_position

HERE = Path(__file__).resolve().parent
POINTS = 10_000
TARGET_SECONDS = 2.0
START = datetime(2025, 11, 10, tzinfo=UTC)


def naive(records: list, out: Path) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 9), dpi=100)
    ax = fig.add_subplot()
    for a, b in itertools.pairwise(records):
        if abs(b.longitude - a.longitude) < 180:
            ax.plot([a.longitude, b.longitude], [a.latitude, b.latitude], color="red")
    fig.savefig(out, dpi=100)


def main() -> None:
    text = "".join(
        format_jsonl_record(offline_position(START + timedelta(minutes=i)), None)
        for i in range(POINTS)
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "map.png"
        render_map(parse_log(text).records[:100], out)  # warm-up: imports, Natural Earth
        parse_times, render_times = [], []
        for _ in range(3):
            started = time.perf_counter()
            records = parse_log(text).records
            parse_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            render_map(records, out)
            render_times.append(time.perf_counter() - started)
        size = out.stat().st_size
        started = time.perf_counter()
        naive(list(records), Path(tmp) / "naive.png")
        naive_seconds = time.perf_counter() - started
    parse_s, render_s = statistics.median(parse_times), statistics.median(render_times)
    total = parse_s + render_s
    result = {
        "points": POINTS,
        "size": "1600x900",
        "parse_seconds": round(parse_s, 3),
        "render_seconds": round(render_s, 3),
        "total_seconds": round(total, 3),
        "naive_render_seconds": round(naive_seconds, 3),
        "png_bytes": size,
        "target_seconds": TARGET_SECONDS,
        "met": total < TARGET_SECONDS,
        "load_average": round(os.getloadavg()[0], 2),
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "map.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        "| `crosstrack map`, 10,000 records, 1600x900 PNG (median of 3) | parse | render "
        "| total | naive (a plot() per segment) |\n"
        "|---|---:|---:|---:|---:|\n"
        f"| seconds | {parse_s:.2f} | {render_s:.2f} | **{total:.2f}** | {naive_seconds:.2f} |\n"
        f"\ntarget < {TARGET_SECONDS:g} s: {'met' if result['met'] else 'NOT met'}; "
        f"load average {result['load_average']} after the runs"
    )


if __name__ == "__main__":
    main()
