"""Real builds from the locked wheels: byte-identical rebuilds, and a zip that runs alone.

The first run downloads the pinned wheels from PyPI into the crosstrack wheel cache
($CROSSTRACK_CACHE/wheels or ~/.cache/crosstrack/wheels); later runs are offline.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from crosstrack.packaging import Target, build_lambda_zip, filebase64sha256

ROOT = Path(__file__).resolve().parents[3]
LOCK = ROOT / "requirements" / "lambda.lock"
HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower()
)
HOST = Target(f"{sys.version_info.major}.{sys.version_info.minor}", HOST_ARCH or "x86_64")
SDK = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")

pytestmark = pytest.mark.slow


def _no_pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    raise AssertionError("a rebuild must come from the cache, without pip or network")


@pytest.fixture(scope="module")
def host_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if HOST_ARCH is None or sys.platform != "linux":
        pytest.skip(f"importing the zip needs Linux x86_64/aarch64, not {platform.machine()}")
    out = tmp_path_factory.mktemp("build") / "lambda.zip"
    build_lambda_zip(out, target=HOST, lock=LOCK)
    return out


def _unpack(archive: Path, dest: Path) -> Path:
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(dest)
    return dest


def test_rebuild_is_byte_identical_and_offline(host_zip: Path, tmp_path: Path) -> None:
    again = build_lambda_zip(tmp_path / "again.zip", target=HOST, lock=LOCK, pip=_no_pip)
    assert again.path.read_bytes() == host_zip.read_bytes()
    assert again.sha256_base64 == filebase64sha256(host_zip)
    assert again.size == host_zip.stat().st_size


def test_zip_holds_the_reporter_sgp4_and_the_pinned_sdk_only(host_zip: Path) -> None:
    with zipfile.ZipFile(host_zip) as zf:
        names = zf.namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert "crosstrack" in tops
    assert "sgp4" in tops
    for sdk in SDK:
        assert sdk in tops, sdk
    crosstrack = {n for n in names if n.startswith("crosstrack/")}
    assert all(
        n in {"crosstrack/__init__.py", "crosstrack/errors.py"}
        or n.startswith("crosstrack/reporter/")
        for n in crosstrack
    )
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    dist_infos = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
    assert "botocore-1.44.8.dist-info" in dist_infos  # the version of requirements/lambda.lock


_PROBE = """
import json, sys, sysconfig
sys.path[:0] = sys.argv[1:]
import crosstrack.reporter.handler as handler
assert callable(handler.lambda_handler)
stdlib = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib")}
origins = {}
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    if path and not any(path.startswith(s) for s in stdlib):
        origins[name.split(".")[0]] = path
print(json.dumps(origins))
"""


def _import_handler(*path: Path) -> dict[str, str]:
    """Import the handler in a fresh interpreter that sees the stdlib and ``path`` only."""
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _PROBE, *[str(p) for p in path]],
        capture_output=True,
        text=True,
        check=False,
        cwd=path[0],
    )
    assert result.returncode == 0, result.stderr
    origins: dict[str, str] = json.loads(result.stdout)
    return origins


def test_handler_imports_from_the_unpacked_zip_alone(host_zip: Path, tmp_path: Path) -> None:
    unpacked = _unpack(host_zip, tmp_path / "task")
    origins = _import_handler(unpacked)
    outside = {name: path for name, path in origins.items() if not path.startswith(str(unpacked))}
    assert outside == {}
    assert {"crosstrack", "boto3", "botocore"} <= set(origins)


def test_no_sdk_zip_runs_on_the_runtime_boto3(tmp_path: Path, host_zip: Path) -> None:
    slim = build_lambda_zip(tmp_path / "slim.zip", target=HOST, sdk=False, lock=LOCK)
    with zipfile.ZipFile(slim.path) as zf:
        tops = {n.split("/")[0] for n in zf.namelist()}
    assert not tops & {"boto3", "botocore", "s3transfer", "urllib3"}
    assert {"crosstrack", "sgp4"} <= tops
    assert slim.size < host_zip.stat().st_size / 10

    # What Lambda's runtime provides: boto3 and its dependencies, nothing of ours.
    full = _unpack(host_zip, tmp_path / "full")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for entry in full.iterdir():
        if entry.name.startswith(("crosstrack", "sgp4")):
            continue
        entry.rename(runtime / entry.name)
    task = _unpack(slim.path, tmp_path / "task")
    origins = _import_handler(task, runtime)
    assert origins["sgp4"].startswith(str(task))
    assert origins["crosstrack"].startswith(str(task))
    assert origins["botocore"].startswith(str(runtime))


def test_arm64_zip_carries_the_aarch64_extension(tmp_path: Path) -> None:
    result = build_lambda_zip(tmp_path / "arm.zip", target=Target("3.12", "arm64"), lock=LOCK)
    with zipfile.ZipFile(result.path) as zf:
        (ext,) = [n for n in zf.namelist() if n.startswith("sgp4/") and n.endswith(".so")]
        elf = zf.read(ext)
    assert elf[:4] == b"\x7fELF"
    assert int.from_bytes(elf[18:20], "little") == 183  # EM_AARCH64
