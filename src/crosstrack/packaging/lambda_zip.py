"""Build the Lambda artifact (design.md, "Lambda artifact") as a deterministic zip.

Contents: ``crosstrack/__init__.py``, ``crosstrack/errors.py`` and ``crosstrack/reporter/**``
from the installed crosstrack sources, plus the contents of the locked wheels (sgp4 and,
unless ``sdk`` is false, boto3/botocore and their dependencies) for one Lambda runtime and
architecture.

Determinism is what makes ``source_code_hash`` meaningful: Terraform updates the function
only when the bytes change, and the bytes change only when code or pins do. Every entry
gets the same timestamp (1980-01-01, the zip epoch) and mode (0644, regular file, Unix
attributes), entries are sorted by name, directories are implicit, ``__pycache__`` and
bytecode are left out, and the compressor settings are fixed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import crosstrack
from crosstrack.packaging.errors import PackagingError
from crosstrack.packaging.lockfile import Pin, find_lock, parse_lock
from crosstrack.packaging.wheels import PipRunner, Target, _run_pip, fetch_wheels

DEFAULT_OUTPUT = Path("dist") / "lambda.zip"
# What the zip needs besides the SDK (the reporter imports stdlib, boto3/botocore, sgp4).
CORE_REQUIREMENTS = frozenset({"sgp4"})

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--: Lambda only needs to read (and mmap .so)
_UNIX = 3  # "made by" system: Unix, so the mode above is honoured on extraction
_SKIP_DIRS = frozenset({"__pycache__"})
_SKIP_SUFFIXES = (".pyc", ".pyo")


@dataclass(frozen=True)
class PackageResult:
    """What was built: the path, its size and the hash Terraform computes for it."""

    path: Path
    size: int
    sha256_base64: str
    entries: int
    target: Target
    sdk: bool
    pins: tuple[Pin, ...]


def filebase64sha256(path: Path) -> str:
    """Base64 of the file's SHA-256, exactly as Terraform's ``filebase64sha256``."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode("ascii")


def _skipped(parts: Iterable[str]) -> bool:
    parts = tuple(parts)
    return any(p in _SKIP_DIRS for p in parts) or parts[-1].endswith(_SKIP_SUFFIXES)


def source_entries(package_dir: Path) -> dict[str, bytes]:
    """``crosstrack/__init__.py``, ``crosstrack/errors.py`` (the error base the reporter's
    errors derive from) and every file under ``crosstrack/reporter`` (no bytecode)."""
    roots = [package_dir / "__init__.py", package_dir / "errors.py"]
    reporter = package_dir / "reporter"
    if not all(p.is_file() for p in roots) or not (reporter / "handler.py").is_file():
        raise PackagingError(f"{package_dir} does not look like the crosstrack package")
    entries = {f"crosstrack/{p.name}": p.read_bytes() for p in roots}
    for path in sorted(reporter.rglob("*")):
        rel = path.relative_to(package_dir)
        if path.is_file() and not _skipped(rel.parts):
            entries[PurePosixPath("crosstrack", *rel.parts).as_posix()] = path.read_bytes()
    return entries


def wheel_entries(wheel: Path) -> dict[str, bytes]:
    """The files a wheel installs into site-packages, keyed by their path there.

    ``<name>.data/purelib`` and ``platlib`` land at the top like the rest; scripts, headers
    and data files have no place in a Lambda zip and are left out.
    """
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                parts = parts[2:]
            if _skipped(parts):
                continue
            name = PurePosixPath(*parts).as_posix()
            if name.startswith("/") or ".." in parts:
                raise PackagingError(f"{wheel.name}: unsafe path {info.filename!r}")
            entries[name] = archive.read(info)
    return entries


def write_deterministic_zip(entries: Mapping[str, bytes], output: Path) -> None:
    """Write ``entries`` so that equal input gives byte-identical output, atomically."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
                info.create_system = _UNIX
                info.external_attr = FILE_MODE << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, entries[name], compresslevel=6)
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)


def build_lambda_zip(
    output: Path = DEFAULT_OUTPUT,
    *,
    target: Target,
    sdk: bool = True,
    lock: Path | None = None,
    cache: Path | None = None,
    package_dir: Path | None = None,
    pip: PipRunner = _run_pip,
    log: Callable[[str], None] = lambda _msg: None,
) -> PackageResult:
    """Build the Lambda zip for ``target`` and return what Terraform needs to know about it."""
    package_dir = package_dir or Path(crosstrack.__file__).resolve().parent
    lock_path = find_lock(lock, search_from=(Path.cwd(), package_dir))
    pins = parse_lock(lock_path.read_text(), source=str(lock_path))
    if not sdk:
        pins = [pin for pin in pins if pin.key in CORE_REQUIREMENTS]
    missing = CORE_REQUIREMENTS - {pin.key for pin in pins}
    if missing:
        raise PackagingError(f"{lock_path} does not pin {', '.join(sorted(missing))}")

    wheels = fetch_wheels(pins, target, cache, pip=pip, log=log)
    entries = source_entries(package_dir)
    owners = dict.fromkeys(entries, "crosstrack")
    for pin in pins:
        for name, data in wheel_entries(wheels[pin.key]).items():
            if name in owners:
                raise PackagingError(f"{name} is shipped by both {owners[name]} and {pin.name}")
            owners[name] = pin.name
            entries[name] = data

    write_deterministic_zip(entries, output)
    return PackageResult(
        path=output,
        size=output.stat().st_size,
        sha256_base64=filebase64sha256(output),
        entries=len(entries),
        target=target,
        sdk=sdk,
        pins=tuple(pins),
    )
