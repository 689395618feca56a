"""The local CloudTrail: one JSON line per authorization decision.

Each line carries what a CloudTrail event would let you reconstruct (time, principal,
session name, action, resource, source IP, scheme) plus what CloudTrail never tells you:
the decision, the policy layer that decided, and the statement that matched. Lines are
appended under a lock and flushed at once so that a reader (``tail -f``, the doctor, a
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
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Owner only: the log names principals, keys' owners and request details.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        path.chmod(0o600)

    def append(self, entry: Mapping[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry so far, oldest first."""
        with self._lock:
            text = self.path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)
