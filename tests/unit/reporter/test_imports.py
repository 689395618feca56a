"""The Lambda part imports only the standard library, boto3/botocore (with their own
dependencies) and sgp4: the zip holds nothing else (design.md, Layout)."""

from __future__ import annotations

import json
import subprocess
import sys

# boto3 and botocore bring these with them (certifi only where installed: botocore uses it
# when present); nothing of crosstrack outside reporter may load.
ALLOWED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "sgp4"}
ALLOWED |= {"certifi", "__mp_main__"}  # __mp_main__: multiprocessing's alias of __main__


def imported_after(statement: str) -> set[str]:
    code = (
        "import json, sys; before = set(sys.modules); "
        f"{statement}; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(proc.stdout))


def test_handler_imports_only_stdlib_boto3_and_sgp4() -> None:
    modules = imported_after("import crosstrack.reporter.handler")
    tops = {name.split(".")[0] for name in modules}
    outside = sorted(
        top
        for top in tops
        if top not in sys.stdlib_module_names and top not in ALLOWED and top != "crosstrack"
    )
    assert outside == []
    ours = sorted(name for name in modules if name.startswith("crosstrack."))
    # crosstrack.errors: the stdlib-only error base, which the zip carries too
    assert all(n.startswith("crosstrack.reporter") or n == "crosstrack.errors" for n in ours), ours
    assert "crosstrack.reporter.handler" in ours


def test_package_root_imports_nothing() -> None:
    modules = imported_after("import crosstrack")
    assert {name.split(".")[0] for name in modules} <= {"crosstrack"}
