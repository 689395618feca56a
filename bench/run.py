"""Run every benchmark in bench/ and refresh its table in README.md.

Each ``bench/bench_*.py`` prints a markdown table on stdout and writes its figures to
``bench/results/<name>.json``. This runner executes them one after another (never in
parallel: they measure the machine) and replaces the text between
``<!-- bench:<name> -->`` and ``<!-- /bench:<name> -->`` in README.md with the new table.

    python bench/run.py            # all of them
    python bench/run.py import iam # some of them, by name
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"


def _record(name: str, table: str) -> None:
    """Replace the block of ``name`` in README.md, read just now: benchmarks take minutes,
    and README may be edited meanwhile; only the block is rewritten."""
    readme = README.read_text(encoding="utf-8")
    block = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.DOTALL)
    if not block.search(readme):
        print(f"(README has no <!-- bench:{name} --> block; table not recorded)", file=sys.stderr)
        return
    README.write_text(
        block.sub(lambda m: m.group(1) + table + m.group(2), readme), encoding="utf-8"
    )


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    wanted = set(argv)
    failed = []
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        if wanted and name not in wanted:
            continue
        print(f"== {name}", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=False
        )
        sys.stderr.write(proc.stderr)
        print(proc.stdout)
        if proc.returncode != 0:
            failed.append(name)
            continue
        _record(name, proc.stdout.strip() + "\n")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
