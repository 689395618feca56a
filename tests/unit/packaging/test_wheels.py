"""Choosing cached wheels per Lambda target, and going to pip only for what is missing."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from crosstrack.packaging import PackagingError, Target
from crosstrack.packaging.lockfile import Pin
from crosstrack.packaging.wheels import default_cache_dir, fetch_wheels, find_cached

SGP4_ARM = "sgp4-2.27-cp311-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64.whl"
SGP4_X86 = "sgp4-2.27-cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SIX = "six-1.17.0-py2.py3-none-any.whl"


@pytest.mark.parametrize(
    ("filename", "python", "arch", "ok"),
    [
        (SGP4_ARM, "3.12", "arm64", True),
        (SGP4_ARM, "3.12", "x86_64", False),
        (SGP4_X86, "3.13", "x86_64", True),
        (SIX, "3.11", "arm64", True),
        ("sgp4-2.27-cp312-cp312-manylinux2014_x86_64.whl", "3.12", "x86_64", True),
        ("sgp4-2.27-cp312-cp312-manylinux2014_x86_64.whl", "3.11", "x86_64", False),
        ("sgp4-2.27-cp312-cp312-manylinux2014_x86_64.whl", "3.13", "x86_64", False),
        ("sgp4-2.27-cp313-abi3-manylinux2014_x86_64.whl", "3.12", "x86_64", False),
        ("sgp4-2.27-cp311-abi3-manylinux_2_28_x86_64.whl", "3.12", "x86_64", False),
        ("sgp4-2.27-cp311-abi3-macosx_11_0_arm64.whl", "3.12", "arm64", False),
        ("sgp4-2.27-cp311-abi3-win_amd64.whl", "3.12", "x86_64", False),
        ("not-a-wheel.tar.gz", "3.12", "x86_64", False),
    ],
)
def test_target_accepts(filename: str, python: str, arch: str, ok: bool) -> None:
    assert Target(python, arch).accepts(filename) is ok


def test_target_rejects_unknown_python_and_arch() -> None:
    with pytest.raises(PackagingError, match="architecture"):
        Target("3.12", "sparc")
    with pytest.raises(PackagingError, match="Python"):
        Target("3.9", "arm64")
    assert Target("3.12", "arm64").platform == "manylinux2014_aarch64"
    assert Target("3.12", "arm64").runtime == "python3.12"


def _write(cache: Path, name: str, data: bytes) -> Pin:
    cache.mkdir(parents=True, exist_ok=True)
    (cache / name).write_bytes(data)
    pkg, version = name.split("-")[:2]
    digest = hashlib.sha256(data).hexdigest()
    return Pin(pkg, version, frozenset({digest}), f"{pkg}=={version} --hash=sha256:{digest}")


def _no_pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    raise AssertionError(f"pip must not run when the cache is complete: {args}")


def test_complete_cache_is_used_offline_and_per_architecture(tmp_path: Path) -> None:
    cache = tmp_path / "wheels"
    arm = _write(cache, SGP4_ARM, b"arm wheel")
    x86 = _write(cache, SGP4_X86, b"x86 wheel")
    six = _write(cache, SIX, b"six wheel")
    sgp4_pin = Pin("sgp4", "2.27", arm.hashes | x86.hashes, "sgp4==2.27")
    got_arm = fetch_wheels([sgp4_pin, six], Target("3.12", "arm64"), cache, pip=_no_pip)
    got_x86 = fetch_wheels([sgp4_pin, six], Target("3.12", "x86_64"), cache, pip=_no_pip)
    assert got_arm["sgp4"].name == SGP4_ARM
    assert got_x86["sgp4"].name == SGP4_X86
    assert got_arm["six"].name == got_x86["six"].name == SIX


def test_a_cached_wheel_with_a_foreign_hash_is_never_used(tmp_path: Path) -> None:
    cache = tmp_path / "wheels"
    six = _write(cache, SIX, b"genuine")
    (cache / SIX).write_bytes(b"tampered")
    assert find_cached([six], Target("3.12", "arm64"), cache) == {}


def test_missing_wheels_are_downloaded_with_hashes_for_the_target(tmp_path: Path) -> None:
    cache = tmp_path / "wheels"
    six = _write(cache, SIX, b"six wheel")
    payload = b"arm wheel"
    sgp4_pin = Pin(
        "sgp4",
        "2.27",
        frozenset({hashlib.sha256(payload).hexdigest()}),
        "sgp4==2.27 --hash=sha256:x",
    )
    calls: list[list[str]] = []

    def fake_pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        calls.append(list(args))
        dest = Path(args[args.index("--dest") + 1])
        req = Path(args[args.index("--requirement") + 1]).read_text()
        assert req == "sgp4==2.27 --hash=sha256:x\n"  # only what is missing, hashes included
        (dest / SGP4_ARM).write_bytes(payload)
        return subprocess.CompletedProcess(args, 0, "", "")

    got = fetch_wheels([sgp4_pin, six], Target("3.12", "arm64"), cache, pip=fake_pip)
    assert got["sgp4"].name == SGP4_ARM
    (args,) = calls
    for flag, value in [
        ("--platform", "manylinux2014_aarch64"),
        ("--python-version", "3.12"),
        ("--implementation", "cp"),
    ]:
        assert args[args.index(flag) + 1] == value
    assert "--only-binary=:all:" in args
    assert "--require-hashes" in args


def test_pip_failure_is_reported_with_its_output(tmp_path: Path) -> None:
    def failing_pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 1, "", "ERROR: No matching distribution found")

    pin = Pin("sgp4", "2.27", frozenset({"0" * 64}), "sgp4==2.27")
    with pytest.raises(PackagingError, match="No matching distribution"):
        fetch_wheels([pin], Target("3.12", "arm64"), tmp_path, pip=failing_pip)


def test_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CROSSTRACK_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path / "wheels"
    monkeypatch.delenv("CROSSTRACK_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "crosstrack" / "wheels"
