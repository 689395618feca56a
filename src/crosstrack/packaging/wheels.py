"""Fetch the locked wheels for a Lambda target into a cache, once.

A :class:`Target` is what the Lambda runtime is: CPython ``X.Y`` on ``arm64`` or
``x86_64`` Linux. Wheels are fetched by ``pip download --only-binary=:all: --platform
manylinux2014_<arch> --python-version X.Y --implementation cp --require-hashes`` into one
flat cache directory (``$CROSSTRACK_CACHE/wheels`` or ``~/.cache/crosstrack/wheels``).
Before asking pip, the cache is searched for a wheel of each pin that suits the target and
whose sha256 is one the lock allows; when every pin is found no network is used, so a
rebuild is offline and fast.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from crosstrack.packaging.errors import PackagingError
from crosstrack.packaging.lockfile import Pin, canonical_name

CACHE_ENV = "CROSSTRACK_CACHE"
ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}
# Lambda's Python runtimes; the reporter needs 3.11+.
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")

# name-version(-build)?-python-abi-platform.whl (PEP 427); the name has '_' for '-'.
_WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?"
    r"-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)

PipRunner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class Target:
    """A Lambda runtime: Python ``X.Y`` on an architecture (``arm64`` or ``x86_64``)."""

    python: str
    arch: str

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise PackagingError(f"architecture {self.arch!r} is not one of arm64, x86_64")
        if self.python not in PYTHON_VERSIONS:
            raise PackagingError(
                f"Python {self.python!r} is not a supported Lambda runtime "
                f"({', '.join(PYTHON_VERSIONS)})"
            )

    @property
    def runtime(self) -> str:
        """The Lambda runtime name (``python3.12``): Terraform's ``lambda_runtime``."""
        return f"python{self.python}"

    @property
    def platform(self) -> str:
        """pip's ``--platform`` for this architecture."""
        return f"manylinux2014_{ARCHITECTURES[self.arch]}"

    @property
    def minor(self) -> int:
        return int(self.python.split(".")[1])

    def accepts(self, filename: str) -> bool:
        """Whether a wheel file of this name can run on this target."""
        match = _WHEEL.match(filename)
        if not match:
            return False
        machine = ARCHITECTURES[self.arch]
        # manylinux2014 == manylinux_2_17; anything up to it runs on every Lambda Python runtime.
        platform_ok = any(
            plat in ("any", f"manylinux2014_{machine}") or _glibc_ok(plat, machine)
            for plat in match["plat"].split(".")
        )
        abi_ok = any(abi in ("none", "abi3", f"cp3{self.minor}") for abi in match["abi"].split("."))
        py_ok = any(self._python_tag_ok(tag) for tag in match["py"].split("."))
        return platform_ok and abi_ok and py_ok

    def _python_tag_ok(self, tag: str) -> bool:
        if tag in ("py3", f"py3{self.minor}"):
            return True
        found = re.fullmatch(r"cp3(\d+)", tag)
        # cp311-abi3 wheels run on every later CPython; plain cpXY ones only on XY (the abi
        # check above rejects a cpXY abi for another version).
        return found is not None and int(found[1]) <= self.minor


def _glibc_ok(plat: str, machine: str) -> bool:
    found = re.fullmatch(rf"manylinux_2_(\d+)_{machine}", plat)
    return found is not None and int(found[1]) <= 17


def default_cache_dir() -> Path:
    """``$CROSSTRACK_CACHE/wheels``, else ``crosstrack/wheels`` under the user cache dir."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env) / "wheels"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "crosstrack" / "wheels"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_cached(pins: Sequence[Pin], target: Target, cache: Path) -> dict[str, Path]:
    """The cached wheel for each pin that suits ``target`` and matches a locked hash."""
    found: dict[str, Path] = {}
    if not cache.is_dir():
        return found
    candidates = sorted(p for p in cache.iterdir() if p.suffix == ".whl")
    for pin in pins:
        for path in candidates:
            match = _WHEEL.match(path.name)
            if (
                match is None
                or canonical_name(match["name"]) != pin.key
                or match["version"] != pin.version
                or not target.accepts(path.name)
            ):
                continue
            if sha256_file(path) in pin.hashes:
                found[pin.key] = path
                break
    return found


def _run_pip(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # fixed argv, no shell
        [sys.executable, "-m", "pip", *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def fetch_wheels(
    pins: Sequence[Pin],
    target: Target,
    cache: Path | None = None,
    *,
    pip: PipRunner = _run_pip,
    log: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Path]:
    """Return ``{pin name: wheel path}`` for every pin, downloading only what the cache lacks."""
    cache = cache if cache is not None else default_cache_dir()
    found = find_cached(pins, target, cache)
    missing = [pin for pin in pins if pin.key not in found]
    if not missing:
        log(f"all {len(pins)} wheels for {target.runtime} {target.arch} found in {cache}")
        return found

    cache.mkdir(parents=True, exist_ok=True)
    log(
        f"downloading {', '.join(p.name + '==' + p.version for p in missing)} "
        f"for {target.runtime} {target.arch} into {cache}"
    )
    with tempfile.TemporaryDirectory(prefix="crosstrack-req-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(pin.text + "\n" for pin in missing))
        result = pip(
            [
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--only-binary=:all:",
                "--platform",
                target.platform,
                "--python-version",
                target.python,
                "--implementation",
                "cp",
                "--require-hashes",
                "--no-deps",  # the lock is complete; pip must not resolve anything else
                "--dest",
                str(cache),
                "--requirement",
                str(req),
            ]
        )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise PackagingError(
            f"pip download failed for {target.runtime} {target.arch} (exit "
            f"{result.returncode}); is PyPI reachable?\n" + "\n".join(detail)
        )
    found = find_cached(pins, target, cache)
    still = [pin.name for pin in pins if pin.key not in found]
    if still:
        raise PackagingError(
            f"after pip download, no wheel of {', '.join(still)} in {cache} suits "
            f"{target.runtime} {target.arch} with a locked hash"
        )
    return found
