"""One deadline per invocation, taken from Lambda's context, shared by every step.

Lambda kills a function at its timeout without a word in the log, and nothing in the
reporter's libraries knows how long it has: urllib's timeout bounds each socket read (a
server dripping a byte now and then holds it for ever), and botocore's bounds each attempt
(3 attempts of 5 s connect + 20 s read is 75 s inside a 30 s function). So the handler reads
the time left once, from ``context.get_remaining_time_in_millis()``, keeps a margin for its
own last log line, and every step gets only what the later steps leave it:

* live sources: their HTTP timeout, but never past the deadline minus the write reserve
  and the offline source's reserve (:data:`OFFLINE_RESERVE_SECONDS`);
* the ``tle`` source: refreshes its TLE from CelesTrak only if time is left, and always
  propagates (microseconds);
* the write: botocore's timeouts and attempts fitted to what is left
  (:func:`crosstrack.reporter.session.client_config`).

https://docs.aws.amazon.com/lambda/latest/dg/python-context.html

Imports: standard library only (this module ships in the Lambda zip).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

Monotonic = Callable[[], float]
"""Seconds on a monotonic clock; injected in tests."""

# Kept back from Lambda's timeout for the handler's last JSON line and its return.
MARGIN_SECONDS: Final = 1.0
# Kept for the write after the sources: a GetObject and a PutObject (tens of ms each in a
# region; the rest absorbs a slow connection or one retry), and a re-read on contention.
WRITE_RESERVE_SECONDS: Final = 3.0
# Kept for the offline source after the live ones: SGP4 takes microseconds, but a cold
# 128 MB function can spend a few hundred ms importing and reading the bundled TLE.
OFFLINE_RESERVE_SECONDS: Final = 0.5
# Below this, starting a network request is pointless: it is skipped and recorded as such.
MIN_REQUEST_SECONDS: Final = 0.2
# Below this, the write (GetObject + PutObject) is not started: the invocation fails with a
# timeout line instead of being killed mid-call.
MIN_WRITE_SECONDS: Final = 1.0


@dataclass(frozen=True)
class Deadline:
    """A point on ``clock`` by which the invocation must be done (``at`` None: no limit)."""

    at: float | None
    clock: Monotonic = field(default=time.monotonic, compare=False)

    @classmethod
    def none(cls, clock: Monotonic = time.monotonic) -> Deadline:
        """No deadline: every step keeps its own timeout."""
        return cls(None, clock)

    @classmethod
    def after(cls, seconds: float, clock: Monotonic = time.monotonic) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(clock() + seconds, clock)

    @classmethod
    def from_context(
        cls, context: object, *, margin: float = MARGIN_SECONDS, clock: Monotonic = time.monotonic
    ) -> Deadline:
        """Lambda's time left (``get_remaining_time_in_millis``) minus ``margin``.

        A context without that method (a caller outside Lambda) gives no deadline; a method
        that fails or answers nonsense too, rather than failing the invocation.
        """
        method = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(method):
            return cls.none(clock)
        try:
            millis = float(method())
        except Exception:  # a foreign context object: run without a deadline
            return cls.none(clock)
        if not math.isfinite(millis):
            return cls.none(clock)
        return cls(clock() + millis / 1000.0 - margin, clock)

    def remaining(self) -> float:
        """Seconds left (negative once passed; ``inf`` without a deadline)."""
        return math.inf if self.at is None else self.at - self.clock()

    def earlier(self, seconds: float) -> Deadline:
        """This deadline moved ``seconds`` earlier (to keep time for later steps)."""
        return self if self.at is None else Deadline(self.at - seconds, self.clock)

    def budget(self, cap: float) -> float:
        """What a step may take: its own limit ``cap``, or less if the deadline is closer."""
        return min(cap, self.remaining())
