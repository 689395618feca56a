"""Read the pinned, hash-checked requirements of the Lambda zip (``requirements/lambda.lock``).

The lock is what ``uv pip compile --generate-hashes`` writes: one ``name==version`` per
requirement, continued with ``\\`` onto ``--hash=sha256:...`` lines, comments after ``#``.
Only that shape is accepted: an unpinned or hash-less line is an error, never a guess.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from crosstrack import resources
from crosstrack.packaging.errors import PackagingError

LOCK_ENV = "CROSSTRACK_LAMBDA_LOCK"
LOCK_RELATIVE = Path("requirements") / "lambda.lock"

_REQ = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[A-Za-z0-9.+!-]+)\s*(?:;.*)?$"
)
_HASH = re.compile(r"^--hash=sha256:(?P<digest>[0-9a-f]{64})$")


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name (``python_dateutil`` -> ``python-dateutil``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    """One locked requirement: exact version and the sha256 digests of its allowed files."""

    name: str
    version: str
    hashes: frozenset[str]
    text: str  # the requirement as it appears in the lock, hashes included (for pip)

    @property
    def key(self) -> str:
        return canonical_name(self.name)


def parse_lock(text: str, *, source: str = "lock file") -> list[Pin]:
    """Parse a hash-pinned requirements file into :class:`Pin` values, in file order."""
    entries: list[tuple[str, list[str]]] = []
    for raw in text.splitlines():
        line = raw.strip().removesuffix("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash="):
            if not entries:
                raise PackagingError(f"{source}: {line!r} before any requirement")
            entries[-1][1].append(line)
        elif line.startswith("-"):
            raise PackagingError(f"{source}: unexpected option {line!r}")
        else:
            entries.append((line, []))

    pins: list[Pin] = []
    for spec, options in entries:
        match = _REQ.match(spec)
        if not match:
            raise PackagingError(
                f"{source}: {spec!r} is not an exact pin (name==version); "
                "regenerate the lock with uv pip compile --generate-hashes"
            )
        hashes = set()
        for option in options:
            hmatch = _HASH.match(option)
            if not hmatch:
                raise PackagingError(f"{source}: {option!r} is not a sha256 hash")
            hashes.add(hmatch["digest"])
        if not hashes:
            raise PackagingError(f"{source}: {spec} has no --hash; every pin needs one")
        pins.append(
            Pin(
                name=match["name"],
                version=match["version"],
                hashes=frozenset(hashes),
                text=" ".join([spec, *options]),
            )
        )
    if not pins:
        raise PackagingError(f"{source}: no requirements found")
    return pins


def find_lock(explicit: Path | None = None, *, search_from: Iterable[Path] = ()) -> Path:
    """Locate ``requirements/lambda.lock``.

    Order: the explicit path, then ``$CROSSTRACK_LAMBDA_LOCK``, then the first
    ``requirements/lambda.lock`` found walking up from each of ``search_from`` (the current
    directory and the crosstrack source tree, for a checkout or an editable install), then
    the copy an installed wheel carries (:func:`crosstrack.resources.lambda_lock`).
    """
    if explicit is not None:
        if not explicit.is_file():
            raise PackagingError(f"lock file {explicit} does not exist")
        return explicit
    env = os.environ.get(LOCK_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            raise PackagingError(f"{LOCK_ENV}={env} does not name a file")
        return path
    for start in search_from:
        for directory in (start, *start.parents):
            candidate = directory / LOCK_RELATIVE
            if candidate.is_file():
                return candidate
    packaged = resources.lambda_lock()
    if packaged.is_file():
        return packaged
    raise PackagingError(
        f"cannot find {LOCK_RELATIVE} (run from a crosstrack checkout, pass --lock PATH "
        f"or set {LOCK_ENV})"
    )
