"""The local CloudTrail: one JSON line per authorization decision.

Each line carries what a CloudTrail event would let you reconstruct (time, principal,
session name, action, resource, source IP, scheme) plus what CloudTrail never tells you:
the decision, the policy layer that decided, and the statement that matched. Lines are
appended under a lock, each in one write, so that a reader (``tail -f``, the doctor, a
test) sees every decision as it happens.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


class AuditLog:
    """One open append-only descriptor for the server's lifetime: reopening the file per
    line cost a quarter of the server's time. Each line is one ``os.write`` on an
    ``O_APPEND`` descriptor (no user-space buffer), so a crash loses at most the line being
    written and a reader sees each line as soon as it is appended."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Owner only: the log names principals, keys' owners and request details.
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        os.chmod(path, 0o600)

    def append(self, entry: Mapping[str, Any]) -> None:
        line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
        with self._lock:
            view = memoryview(line)
            while view:  # os.write may write less than asked (a full disk, a signal)
                view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __del__(self) -> None:
        fd = getattr(self, "_fd", -1)
        if fd >= 0:
            os.close(fd)

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry so far, oldest first."""
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)
